// An entity's neighbourhood with the chunks each relationship was extracted from.
// :param name => 'Halden Instruments'
MATCH (e:Entity) WHERE toLower(e.name) = toLower($name)
MATCH (e)-[r]-(other:Entity)
RETURN e.name AS entity, type(r) AS relationship, startNode(r) = e AS outgoing,
       other.name AS other, other.type AS other_type, r.source_chunks AS source_chunks
ORDER BY relationship, other
LIMIT 200
