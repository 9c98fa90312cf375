// Duplicate candidates: same-type entities whose names match ignoring case, or where one name
// contains the other ("Acme" / "Acme Corp"). Merge real duplicates with `kgrag entities merge`.
MATCH (a:Entity), (b:Entity)
WHERE a.type = b.type AND a.id < b.id
  AND (toLower(a.name) = toLower(b.name)
       OR toLower(a.name) CONTAINS toLower(b.name)
       OR toLower(b.name) CONTAINS toLower(a.name))
RETURN a.type AS type, a.name AS name, b.name AS other_name, a.id AS id, b.id AS other_id
ORDER BY type, name
LIMIT 200
