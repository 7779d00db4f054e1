--
-- PostgreSQL database dump
--

\restrict abc123

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';
SET default_table_access_method = heap;

CREATE TABLE public.tickets (
    id integer NOT NULL,
    title character varying(200) DEFAULT 'it''s; \! x'::character varying,
    CONSTRAINT c CHECK ((id > 0))
);

ALTER TABLE public.tickets OWNER TO ticket;
COMMENT ON TABLE public.tickets IS E'a\'; \\! b';
COPY public.tickets (id, title) FROM stdin;
1	\\! touch /tmp/x
2	it's; \. not the end
3	\.x
\.

SELECT pg_catalog.setval('public.tickets_id_seq', 3, true);

--
-- PostgreSQL database dump complete
--

\unrestrict abc123

