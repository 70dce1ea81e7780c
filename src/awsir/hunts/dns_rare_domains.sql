-- title: DNS queries to a domain only one client asks for
-- severity: low
-- attack: T1071.004, T1568
-- needs: route53_resolver
-- why: Command-and-control and staging servers live on domains nothing else in the environment talks to. A registered domain resolved by a single instance, in a VPC where several instances resolve names, is worth a look (AWS and private names are left out; NXDOMAIN bursts have their own hunt).
WITH asked AS (
  SELECT *, lower(rtrim(query_name, '.')) AS name
  FROM route53_resolver
  WHERE query_name IS NOT NULL AND rcode IS DISTINCT FROM 'NXDOMAIN'
),
labelled AS (
  SELECT *, string_split(name, '.') AS labels FROM asked
  WHERE NOT regexp_matches(name, '(^|\.)(amazonaws\.com|amazon\.com|aws|amazon|api\.aws|awsstatic\.com|internal|local|localhost|arpa)$')
    AND len(string_split(name, '.')) >= 2
),
registered AS (  -- the registrable domain: two labels, three under a country's second level (co.uk)
  SELECT *, CASE
      WHEN len(labels) >= 3 AND length(labels[-1]) = 2
        AND labels[-2] IN ('co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ne', 'or')
      THEN array_to_string(labels[-3:], '.')
      ELSE array_to_string(labels[-2:], '.') END AS domain
  FROM labelled
),
prevalence AS (
  SELECT domain, count(DISTINCT srcaddr) AS clients FROM registered GROUP BY domain
)
SELECT time, source, domain AS subject, actor, src_ip, action, message, raw_ref
FROM registered JOIN prevalence USING (domain)
WHERE clients = 1 AND (SELECT count(DISTINCT srcaddr) FROM registered) >= 5
