-- title: Web requests blocked by AWS WAF
-- severity: low
-- attack: T1190
-- needs: waf
-- why: Blocked requests show who is probing the application (injection, traversal, scanners) and which rules fire; the same address's allowed requests are what got through.
SELECT time, source, src_ip AS subject, actor, src_ip, action, message, raw_ref
FROM waf
WHERE waf_action = 'BLOCK'
