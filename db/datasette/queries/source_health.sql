-- Each source and crawl scope: its last crawl, its last healthy crawl, and failures since then.
-- Only a healthy crawl may mark a place closed; a scope with failures keeps its last good data.
with scopes as (
    select source, scope, max(id) as last_id,
           max(case when healthy = 1 then id end) as healthy_id
    from scope_runs group by source, scope
),
health as (
select
    s.source,
    s.scope,
    case when last.healthy = 1 then 'healthy' else 'failing' end as last_status,
    last.at as last_crawl_at,
    last.items as last_items,
    last.reason as last_reason,
    good.at as last_healthy_at,
    good.items as last_healthy_items,
    (select count(*) from scope_runs f
      where f.source = s.source and f.scope = s.scope and f.healthy = 0
        and f.id > coalesce(s.healthy_id, 0)) as failures_since_healthy,
    (select count(*) from scope_runs f
      where f.source = s.source and f.scope = s.scope and f.healthy = 0) as failures_total,
    (select c.status || coalesce(': ' || nullif(c.reason, ''), '') from crawl_runs c
      where c.source = s.source order by c.id desc limit 1) as last_crawl_of_source
from scopes s
join scope_runs last on last.id = s.last_id
left join scope_runs good on good.id = s.healthy_id
union all
-- Sources whose crawls never got as far as a scope (the fetch itself failed).
select
    c.source, '(whole source)', 'failing', max(c.started_at), 0, null, null, null,
    count(*), count(*),
    (select c2.status || coalesce(': ' || nullif(c2.reason, ''), '') from crawl_runs c2
      where c2.source = c.source order by c2.id desc limit 1)
from crawl_runs c
where not exists (select 1 from scope_runs r where r.source = c.source)
group by c.source
)
select * from health
order by failures_since_healthy desc, source, scope
