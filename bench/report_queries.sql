-- The aggregate queries behind `aftershock report`, for the sqlite3 shell, so bench/report
-- can time the shell against the report on the same store. Parameters (milliseconds since
-- the epoch): :prev start of the previous period, :since start of the period, :until its end.
-- Flakiness and recovery, which the report computes in C from one scan of the runs, are
-- window-function queries here. Medians are not computed here.

-- Totals per period and outcome.
SELECT CASE WHEN started_ms >= :since THEN 0 ELSE 1 END AS p, outcome, COUNT(*), SUM(healed)
FROM chaos_runs WHERE started_ms >= :prev AND started_ms < :until GROUP BY p, outcome;

-- Runs per UTC day and outcome.
SELECT started_ms / 86400000 AS d, outcome, COUNT(*), SUM(healed)
FROM chaos_runs WHERE started_ms >= :since AND started_ms < :until GROUP BY d, outcome;

-- Slowest experiments.
SELECT experiment, CASE WHEN started_ms >= :since THEN 0 ELSE 1 END AS p, COUNT(*),
       SUM(duration_ms), MAX(duration_ms)
FROM chaos_runs WHERE started_ms >= :prev AND started_ms < :until AND outcome <> 'interrupted'
GROUP BY experiment, p ORDER BY p, SUM(duration_ms) * 1.0 / COUNT(*) DESC;

-- Flaky experiments: passed and failed on the same commit, with flips in time order.
WITH r AS (
  SELECT id, experiment, commit_sha, started_ms, outcome = 'passed' AS ok,
         CASE WHEN started_ms >= :since THEN 0 ELSE 1 END AS p
  FROM chaos_runs WHERE started_ms >= :prev AND started_ms < :until
    AND commit_sha IS NOT NULL AND outcome <> 'interrupted'),
f AS (
  SELECT p, experiment, commit_sha, ok,
         LAG(ok) OVER (PARTITION BY p, experiment, commit_sha ORDER BY started_ms, id) AS prev_ok
  FROM r),
g AS (
  SELECT p, experiment, commit_sha, COUNT(*) AS runs, SUM(ok) AS passes,
         SUM(prev_ok IS NOT NULL AND prev_ok <> ok) AS flips
  FROM f GROUP BY p, experiment, commit_sha)
SELECT p, experiment, COUNT(*) AS commits, SUM(passes > 0 AND passes < runs) AS flaky,
       SUM(CASE WHEN passes > 0 AND passes < runs THEN runs END),
       SUM(CASE WHEN passes > 0 AND passes < runs THEN flips END) AS flips
FROM g GROUP BY p, experiment HAVING flaky > 0 ORDER BY p, flips DESC, experiment;

-- Time to recovery: from a failing run that follows a pass to the next pass. A running
-- count of incident starts numbers the incidents of each experiment.
WITH r AS (
  SELECT id, experiment, started_ms, outcome = 'passed' AS ok,
         CASE WHEN started_ms >= :since THEN 0 ELSE 1 END AS p
  FROM chaos_runs WHERE started_ms >= :prev AND started_ms < :until
    AND outcome <> 'interrupted'),
s AS (
  SELECT *, LAG(ok) OVER (PARTITION BY p, experiment ORDER BY started_ms, id) AS prev_ok
  FROM r),
t AS (
  SELECT *, SUM(CASE WHEN ok = 0 AND (prev_ok IS NULL OR prev_ok = 1) THEN 1 ELSE 0 END)
              OVER (PARTITION BY p, experiment ORDER BY started_ms, id) AS incident
  FROM s),
i AS (
  SELECT p, experiment, incident, MIN(CASE WHEN ok = 0 THEN started_ms END) AS began,
         MIN(CASE WHEN ok = 1 THEN started_ms END) AS recovered
  FROM t WHERE incident > 0 GROUP BY p, experiment, incident)
SELECT p, COUNT(*), COUNT(recovered), AVG(recovered - began), MAX(recovered - began)
FROM i GROUP BY p;

-- Failure categories.
SELECT category, SUM(CASE WHEN started_ms >= :since THEN 1 ELSE 0 END),
       SUM(CASE WHEN started_ms < :since THEN 1 ELSE 0 END)
FROM chaos_failures WHERE started_ms >= :prev AND started_ms < :until GROUP BY category;

-- Top failure signatures with first and last sighting and the previous count.
WITH top AS (
  SELECT signature, MIN(category), COUNT(*) AS n, COUNT(DISTINCT experiment), MIN(message)
  FROM chaos_failures WHERE started_ms >= :since AND started_ms < :until
  GROUP BY signature ORDER BY n DESC, signature LIMIT 10)
SELECT top.*,
  (SELECT MIN(started_ms) FROM chaos_failures f WHERE f.signature = top.signature),
  (SELECT MAX(started_ms) FROM chaos_failures f
   WHERE f.signature = top.signature AND f.started_ms < :until),
  (SELECT COUNT(*) FROM chaos_failures f
   WHERE f.signature = top.signature AND f.started_ms >= :prev AND f.started_ms < :since)
FROM top;

-- Healing success per category and strategy, and healing totals.
SELECT a.category, a.strategy,
  SUM(CASE WHEN a.started_ms >= :since THEN 1 ELSE 0 END),
  SUM(CASE WHEN a.started_ms >= :since AND b.exit_code = 0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN a.started_ms < :since THEN 1 ELSE 0 END),
  SUM(CASE WHEN a.started_ms < :since AND b.exit_code = 0 THEN 1 ELSE 0 END)
FROM chaos_heal_attempts a LEFT JOIN chaos_heal_attempts b
  ON b.session = a.session AND b.attempt = a.attempt + 1
WHERE a.started_ms >= :prev AND a.started_ms < :until AND a.strategy IS NOT NULL
GROUP BY a.category, a.strategy ORDER BY a.category, a.strategy;

SELECT CASE WHEN started_ms >= :since THEN 0 ELSE 1 END AS p, COUNT(*),
  SUM(CASE WHEN exit_code <> 0 THEN 1 ELSE 0 END), COUNT(DISTINCT session),
  COUNT(DISTINCT CASE WHEN exit_code <> 0 THEN session END),
  SUM(CASE WHEN exit_code = 0 AND attempt > 1 THEN 1 ELSE 0 END),
  SUM(CASE WHEN outcome = 'stopped' THEN 1 ELSE 0 END)
FROM chaos_heal_attempts WHERE started_ms >= :prev AND started_ms < :until GROUP BY p;

-- Resilience score per day; day -1 is the previous period.
SELECT CASE WHEN started_ms < :since THEN -1 ELSE started_ms / 86400000 END AS d,
  COUNT(*), SUM(weight * passed), SUM(weight)
FROM chaos_objectives WHERE started_ms >= :prev AND started_ms < :until GROUP BY d ORDER BY d;
