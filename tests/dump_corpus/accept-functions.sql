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

CREATE FUNCTION public.f() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$
BEGIN
  COMMIT;
  -- \! no
  RETURN $1;
END;
$_$;

CREATE FUNCTION public.g(a integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ select a + 1 $$;
CREATE VIEW public.v AS
 SELECT (t.id)::text AS id,
    (1.5e3 + .5) AS n,
    t.arr[1:2] AS s
   FROM public.t t
  WHERE (t.name = U&'d\0061t\+000061');

--
-- PostgreSQL database dump complete
--

\unrestrict abc123

