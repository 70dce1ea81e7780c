-- title: Rejected connections to administration ports
-- severity: low
-- attack: T1046
-- needs: vpc_flow
-- why: Many rejected attempts on SSH, RDP, database or Kubernetes ports from one address are a scan or a brute-force attempt; the accepted ones from the same address deserve a look.
WITH tries AS (
  SELECT *, count(*) OVER (PARTITION BY coalesce(pkt_srcaddr, srcaddr)) AS attempts
  FROM vpc_flow
  WHERE action = 'REJECT' AND dstport IN (22, 23, 3389, 5985, 5986, 3306, 5432, 1433, 6379, 9200, 27017, 6443, 2379, 10250)
)
SELECT time, source, coalesce(pkt_srcaddr, srcaddr) AS subject, actor, src_ip, action, message, raw_ref
FROM tries WHERE attempts >= 5
