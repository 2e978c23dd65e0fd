"""Changes of hands: a venue listed again at the same normalised address and postcode under a new registration.

The steps of monitor/changes/closures.py's ScopeStep that link an old record to its successor (succeeds /
succeeded_by) instead of closing it, and turn a recent closure into a change of hands (sent as a correction).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from db import seen


class ChangedHands:
    """The change-of-hands steps of a ScopeStep (its db, table, source, scope, crawl_id, now and _emit)."""

    def _successors(self, old_where: str, params: list, new_where: str) -> list[tuple[str, str]]:
        """Return (old id, new id) pairs: a record matching old_where and one matching new_where at the same
        normalised address and postcode, the new one first listed after the old one was last listed."""
        rows = self.db.execute(f"""
            select r.id, (select n.id from [{self.table}] n
                          where n.source = r.source and n.scope = r.scope and n.id != r.id and {new_where}
                            and n.first_crawl_id > {seen.last_crawl(self.table)} and n.succeeds is null
                            and lbm_norm_postcode(n.postcode) = lbm_norm_postcode(r.postcode)
                            and lbm_norm_address(n.address) = lbm_norm_address(r.address)
                          order by n.first_crawl_id, n.id limit 1)
            from [{self.table}] r
            where r.source = ? and r.scope = ? and {old_where} and r.address is not null and r.postcode is not null
            order by r.id""", [self.source, self.scope, *params]).fetchall()
        pairs, taken = [], set()
        for old_id, new_id in rows:
            if new_id and new_id not in taken:
                taken.add(new_id)
                pairs.append((old_id, new_id))
        return pairs

    def _hand_over(self, pairs: list[tuple[str, str]], rule: str, extra: dict | None = None) -> None:
        for old_id, new_id in pairs:
            new = self.db.execute(f"select ref, name from [{self.table}] where id = ?", [new_id]).fetchone()
            evidence = {"rule": rule, "old_id": old_id, "new_id": new_id, "new_ref": new[0], "new_name": new[1],
                        **(extra or {}).get(old_id, {})}
            self._emit("changed_hands", "json_set(?, '$.old_name', r.name)", "r.id = ?", [old_id],
                       (json.dumps(evidence),))
            self.db.execute(f"update [{self.table}] set status = 'changed_hands', closed_by = 'changed_hands', "
                            "closed_at = ?, succeeded_by = ?, missing_count = 0 where id = ?",
                            [self.now, new_id, old_id])
            self.db.execute(f"update [{self.table}] set succeeds = ? where id = ?", [old_id, new_id])

    def changed_hands(self, about_to_close: str, params: list) -> None:
        """Venues about to close by absence whose address has a new registration: changed hands, not closed."""
        listed = f"{seen.last_crawl(self.table, 'n')} = {int(self.crawl_id)}"
        pairs = self._successors(about_to_close, params, listed)
        self._hand_over(pairs, "a new registration at the same address and postcode after it was last listed")

    def supersede_recent_closures(self) -> None:
        """A new registration at the address of a venue closed by absence lately: that closure was a change of
        hands. The event goes out as a correction to the closure."""
        since = (datetime.fromisoformat(self.now[:19]) - timedelta(weeks=self.hands_weeks)).isoformat()
        old = "r.status = 'closed' and r.closed_by = 'absence' and r.closed_at >= ? and r.succeeded_by is null"
        new = f"n.first_crawl_id = {int(self.crawl_id)}"
        pairs = self._successors(old, [since], new)
        closures = {}
        for old_id, _ in pairs:
            event = self.db.execute("select id, at from events where record_id = ? and kind = 'closed' "
                                    "order by id desc limit 1", [old_id]).fetchone()
            if event:
                closures[old_id] = {"supersedes_closure": event[0], "closure_reported": event[1]}
        self._hand_over(pairs, "a new registration at the same address and postcode: the closure reported "
                               "earlier was a change of hands", closures)
