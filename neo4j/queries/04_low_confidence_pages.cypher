// Pages whose OCR confidence is below a threshold (pages read from a text layer have none).
// :param threshold => 0.8
MATCH (d:Document)-[:HAS_PAGE]->(p:Page)
WHERE p.ocr_confidence IS NOT NULL AND p.ocr_confidence < $threshold
RETURN d.title AS document, p.number AS page, p.ocr_confidence AS confidence, p.ocr_engine AS engine
ORDER BY confidence
LIMIT 200
