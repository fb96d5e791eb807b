"""The ``account``/``domainid``/``domain`` fields of account-owned objects, for a whole page
in two queries (accounts, then their domains)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api.registry import Field
from cirrostack.api.views import batch
from cirrostack.db.models import accounts as account_models

FIELDS = (
    Field("account", "string", "the owner of the object"),
    Field("domainid", "string", "the domain ID of the owner"),
    Field("domain", "string", "the domain name of the owner"),
)


@dataclass(frozen=True)
class Owners:
    accounts: dict[int, account_models.Account]
    domains: dict[int, account_models.Domain]

    def fields(self, account_id: int) -> dict[str, Any]:
        account = self.accounts[account_id]
        domain = self.domains[account.domain_id]
        return {"account": account.account_name, "domainid": domain.uuid, "domain": domain.name}


def of(session: Session, account_ids: Iterable[int]) -> Owners:
    accounts = batch.by_id(session, account_models.Account, account_ids)
    domains = batch.by_id(session, account_models.Domain, [a.domain_id for a in accounts.values()])
    return Owners(accounts, domains)
