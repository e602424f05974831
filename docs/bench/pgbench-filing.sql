-- The database anchor for filing: what one API filing must write at least, straight on
-- PostgreSQL — a case row and its first event row in one transaction — into the same
-- schema and indexes as the API (run on a database made by `xuncha generate-city`).
\set lat random(300000, 304000)
\set lon random(1200000, 1205000)
BEGIN;
WITH filed AS (
  INSERT INTO cases (id, case_no, client_id, category_code, description, lat, lon, accuracy_m,
                     address, observed_at, severity, source, status, version, created_at,
                     updated_at, rework_count, recurrence_count)
  VALUES (gen_random_uuid(), 'PGB-' || gen_random_uuid(), gen_random_uuid(), 'parking',
          'pgbench', :lat / 10000.0, :lon / 10000.0, 8, 'pgbench', now(), 'normal', 'patrol',
          'reported', 1, now(), now(), 0, 0)
  RETURNING id)
INSERT INTO case_events (id, case_id, seq, action, to_status, photo_ids, created_at, hash)
SELECT gen_random_uuid(), filed.id, 1, 'file', 'reported', '[]', now(), md5(random()::text)
FROM filed;
COMMIT;
