-- What a DBA runs on the source database for replicatord (psql -d YOUR_DB -f source-setup.sql).
-- Replace the role name, password handling and table list to suit; replicatord itself never
-- needs superuser.

-- 1. Logical decoding. Needs a restart of PostgreSQL when changed. On Amazon RDS set
--    rds.logical_replication = 1 in the DB parameter group instead.
--    ALTER SYSTEM SET wal_level = logical;
--    ALTER SYSTEM SET max_replication_slots = 10;   -- at least one per replicatord daemon
--    ALTER SYSTEM SET max_wal_senders = 10;         -- at least one per replicatord daemon
SHOW wal_level;               -- must say: logical
SHOW max_replication_slots;
SHOW max_wal_senders;

-- 2. A role that may replicate and read the published tables. Give it a password the libpq way
--    (replicatord reads PGPASSWORD, ~/.pgpass or passfile=; never the config file), and a
--    pg_hba.conf line allowing it to connect to this database for both normal and replication
--    connections, e.g.:  host  app  replicator  10.0.0.5/32  scram-sha-256
--                        host  replication  replicator  10.0.0.5/32  scram-sha-256
CREATE ROLE replicator WITH LOGIN REPLICATION;
GRANT USAGE ON SCHEMA public TO replicator;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO replicator;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO replicator;

-- 3. The publication: the tables replicatord copies. Its name is [source] publication.
CREATE PUBLICATION replicatord FOR ALL TABLES;
--  or: CREATE PUBLICATION replicatord FOR TABLE public.orders, public.customers;

-- 4. Tables without a primary key need REPLICA IDENTITY FULL for updates and deletes to be
--    replicated (PostgreSQL refuses UPDATE/DELETE on them otherwise):
--    ALTER TABLE public.events REPLICA IDENTITY FULL;
SELECT c.oid::regclass AS table_without_key
FROM pg_publication_tables pt
JOIN pg_class c ON c.relname = pt.tablename AND c.relnamespace = pt.schemaname::regnamespace
WHERE pt.pubname = 'replicatord' AND c.relreplident = 'd'
  AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary);

-- The replication slot ([source] slot) is created by replicatord on its first run. A slot that
-- nobody reads keeps WAL forever: drop it when you retire the daemon:
--    SELECT pg_drop_replication_slot('replicatord');
