-- What a DBA runs on the source database for replicatord, as a superuser (rds_superuser on Amazon
-- RDS), in the database to replicate:
--
--     psql -d app -f source-setup.sql
--     psql -d app -v role=replicator -v publication=replicatord -v tables='public.orders, public.customers' -f source-setup.sql
--
-- Installed by the Debian package as /usr/share/doc/replicatord/source-setup.sql. It may be run
-- again: it creates what is missing, grants what is not granted, and ends with the checks
-- `replicatord check` makes, so its output says what is still wrong. replicatord itself never
-- needs superuser.
--
-- Variables (psql -v NAME=VALUE):
--   role         the login role replicatord connects as ([source] conninfo user=...); default replicator
--   publication  [source] publication; default replicatord
--   tables       the tables to publish, e.g. 'public.orders, public.customers'; default: all tables
--                (FOR ALL TABLES, which needs a superuser, and takes in tables created later)
\set ON_ERROR_STOP on
\if :{?role}
\else
  \set role replicator
\endif
\if :{?publication}
\else
  \set publication replicatord
\endif

-- 1. Logical decoding. These need a restart of PostgreSQL when changed:
--      ALTER SYSTEM SET wal_level = logical;
--      ALTER SYSTEM SET max_replication_slots = 10;   -- at least one per replicatord daemon, plus one
--      ALTER SYSTEM SET max_wal_senders = 10;         -- for a full load resumed or a table added later
--    On Amazon RDS set rds.logical_replication = 1 in the DB parameter group instead (the
--    CloudFormation template config/aws/replicatord.yaml makes one) and reboot the instance.
--    Optionally bound the WAL a stalled slot may hold (PostgreSQL 13+), knowing that a slot past
--    the bound is lost and the daemon then stops (a new full load is needed):
--      ALTER SYSTEM SET max_slot_wal_keep_size = '100GB';

-- 2. The role: it logs in, may replicate, and reads the published tables (step 4). Give it a
--    password with psql's \password (sends a hash, not the clear text):  \password replicator
--    replicatord reads the password the libpq way: PGPASSWORD, ~/.pgpass or PGPASSFILE (the systemd
--    unit hands it /etc/replicatord/pgpass as a credential); never from its config file.
--    pg_hba.conf must let the role connect to this database for both normal and replication
--    connections, e.g.:   host  app          replicator  10.0.0.5/32  scram-sha-256
--                         host  replication  replicator  10.0.0.5/32  scram-sha-256
--    (RDS allows both from the instance's security group.)
SELECT format('CREATE ROLE %I WITH LOGIN', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
-- On RDS the REPLICATION attribute cannot be granted: membership of rds_replication stands for it.
SELECT to_regrole('rds_replication') IS NOT NULL AS on_rds \gset
\if :on_rds
  GRANT rds_replication TO :"role";
\else
  ALTER ROLE :"role" WITH LOGIN REPLICATION;
\endif

-- 3. The publication: the tables replicatord copies. Its name is [source] publication. Tables
--    can be added later (ALTER PUBLICATION ... ADD TABLE ...): the daemon gives a new table a full
--    load of its own at its next cycle. Grant SELECT on such a table too (run this file again).
\if :{?tables}
  SELECT format('CREATE PUBLICATION %I FOR TABLE %s', :'publication', :'tables')
  WHERE NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = :'publication') \gexec
\else
  SELECT format('CREATE PUBLICATION %I FOR ALL TABLES', :'publication')
  WHERE NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = :'publication') \gexec
\endif

-- 4. SELECT on exactly the published tables (and USAGE on their schemas), for the full load.
SELECT DISTINCT format('GRANT USAGE ON SCHEMA %I TO %I', schemaname, :'role')
FROM pg_publication_tables WHERE pubname = :'publication' \gexec
SELECT format('GRANT SELECT ON TABLE %I.%I TO %I', schemaname, tablename, :'role')
FROM pg_publication_tables WHERE pubname = :'publication' \gexec
--    With FOR ALL TABLES, tables created later by the owner of the schema public are readable too:
--      ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO replicator;

-- 5. Tables without a primary key need REPLICA IDENTITY FULL (or USING INDEX) for their updates
--    and deletes to be replicated: PostgreSQL refuses UPDATE/DELETE on them in a publication
--    otherwise. Listed here, for the owner to run:  ALTER TABLE ... REPLICA IDENTITY FULL;
SELECT format('%I.%I', pt.schemaname, pt.tablename) AS "needs REPLICA IDENTITY FULL"
FROM pg_publication_tables pt
JOIN pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
WHERE pt.pubname = :'publication'
  AND (c.relreplident = 'n'
       OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
ORDER BY 1;

-- 6. The checks (what `replicatord check --config FILE` also reports). Every "ok" must be true.
SELECT name, setting, CASE name
         WHEN 'wal_level' THEN setting = 'logical'
         ELSE setting::int >= 2
       END AS ok
FROM pg_settings WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders')
ORDER BY name;
SELECT r.rolname AS role,
       r.rolcanlogin AS can_login,
       r.rolreplication OR r.rolsuper
         OR CASE WHEN to_regrole('rds_replication') IS NULL THEN false
                 ELSE pg_has_role(r.rolname, 'rds_replication', 'MEMBER') END AS can_replicate,
       (SELECT count(*) FROM pg_publication_tables WHERE pubname = :'publication') AS published_tables,
       (SELECT count(*) FROM pg_publication_tables pt
          JOIN pg_namespace n ON n.nspname = pt.schemaname
          JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
        WHERE pt.pubname = :'publication'
          AND NOT (has_schema_privilege(r.rolname, n.oid, 'USAGE') AND has_table_privilege(r.rolname, c.oid, 'SELECT'))) AS unreadable_tables
FROM pg_roles r WHERE r.rolname = :'role';

-- The replication slot ([source] slot) is created by replicatord on its first run. A slot that
-- nobody reads keeps WAL forever: when you retire the daemon, run `replicatord drop-slot --config
-- FILE`, or:  SELECT pg_drop_replication_slot('replicatord');
