-- Grants to recipients in left-behind wards, by funder, largest total first.
-- :since is an award date (YYYY-MM-DD); leave it blank for every grant in the store.
select
    coalesce(g.funder_name, g.funder_id, g.publisher, '(funder not given)') as funder,
    count(*) as grants,
    round(sum(g.amount), 0) as amount_gbp,
    count(distinct g.ward_code) as wards,
    count(distinct w.lad_code) as local_authorities,
    sum(coalesce(g.covid, 0)) as covid_grants,
    min(g.award_date) as first_award,
    max(g.award_date) as last_award
-- CROSS JOIN keeps the wards first, so only the left-behind wards' grants are read (through the ward index).
from wards w
cross join grants g on g.ward_code = w.code
where w.left_behind = 1
  and (:since = '' or g.award_date >= :since)
group by 1
order by amount_gbp desc, grants desc
