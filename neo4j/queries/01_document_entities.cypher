// A document's entities: what one document mentions, with how many of its chunks mention each.
// Set the parameter first:  :param document_id => 'handbook-1a2b3c'   (ids: MATCH (d:Document) RETURN d.id, d.title)
MATCH (c:Chunk {document_id: $document_id})-[:MENTIONS]->(e:Entity)
RETURN e.name AS entity, e.type AS type, count(c) AS chunks
ORDER BY chunks DESC, entity
LIMIT 200
