// Every relationship of one type, with its provenance and confidence.
// :param type => 'FOUNDED'
MATCH (a:Entity)-[r]->(b:Entity) WHERE type(r) = $type
RETURN a.name AS source, type(r) AS relationship, b.name AS target,
       r.confidence AS confidence, r.source_chunks AS source_chunks
ORDER BY source, target
LIMIT 500
