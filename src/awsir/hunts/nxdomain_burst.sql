-- title: Burst of NXDOMAIN answers for one client
-- severity: medium
-- attack: T1568.002
-- needs: route53_resolver
-- why: Malware that generates domain names (DGA) to find its command server asks for many names that do not exist; dozens of NXDOMAIN answers to one instance within minutes are its signature.
WITH failed AS (
  SELECT *, count(*) OVER (PARTITION BY srcaddr ORDER BY time
    RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND INTERVAL 10 MINUTES FOLLOWING) AS nearby
  FROM route53_resolver
  WHERE rcode = 'NXDOMAIN'
)
SELECT time, source, srcaddr AS subject, actor, src_ip, action, message, raw_ref
FROM failed WHERE nearby >= 20
