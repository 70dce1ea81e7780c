-- title: Large transfer to one external address
-- severity: high
-- attack: T1048
-- needs: vpc_flow
-- why: Hundreds of megabytes sent from inside the VPC to a single address outside private ranges is how data leaves over the network (the exfiltration S3 logs do not show when the data came from a disk or a database).
WITH outbound AS (
  SELECT *, coalesce(pkt_dstaddr, dstaddr) AS remote
  FROM vpc_flow
  WHERE action = 'ACCEPT' AND bytes > 0
    AND NOT regexp_matches(coalesce(pkt_dstaddr, dstaddr), '^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|127\.|169\.254\.|fe80:|fd|fc)')
    AND regexp_matches(coalesce(pkt_srcaddr, srcaddr), '^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|fd|fc)')
),
totals AS (SELECT remote, sum(bytes) AS sent FROM outbound GROUP BY remote)
SELECT time, source, remote AS subject, actor, src_ip, action, message, raw_ref
FROM outbound JOIN totals USING (remote) WHERE sent >= 500000000
