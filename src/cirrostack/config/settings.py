"""The one way business code reads a setting: ``Settings(session).get(key, ...)``.

A value is looked for from the most specific place the caller names to the global value::

    storage pool → cluster → zone → global        image store → zone → global
    account → domain → global

Only the scopes the key supports are consulted; the parents of a named place are read from the
database (a pool's cluster and zone, a cluster's zone, an account's domain), so a caller names
the most specific object it has. At each place the owner's ``*_details`` row is tried, then
``configuration.value``, then the key's declared default. The text found is parsed to the key's
type; a stored text that does not parse raises ``BadStoredValue`` naming the key, the place and
the text: it is never replaced by the default in silence.

Nothing is cached: a value written in this transaction (or committed by another server) is
seen by the next ``get``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cirrostack.config import definitions, errors, store

Scope = definitions.Scope
T = TypeVar("T", bool, int, float, str)


@dataclass(frozen=True)
class Resolved:
    """The text in force for a key somewhere, and where it came from.

    ``place`` is None when the global value applies; ``is_default`` when no value is stored
    anywhere along the chain and the declared default applies.
    """

    text: str
    place: store.Place | None = None
    is_default: bool = False

    @property
    def where(self) -> str:
        if self.place is not None:
            return f"set for {self.place}"
        return "declared default" if self.is_default else "global value"


class Settings:
    """Typed settings for code that holds a session (a command, a job, a background task)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(
        self,
        key: definitions.ConfigKey[T],
        *,
        zone_id: int | None = None,
        cluster_id: int | None = None,
        pool_id: int | None = None,
        image_store_id: int | None = None,
        account_id: int | None = None,
        domain_id: int | None = None,
    ) -> T:
        """The value of ``key`` in force at the named objects (internal ids), typed.

        Raises BadStoredValue when the text in force does not parse.
        """
        found = self.resolve(
            key,
            zone_id=zone_id,
            cluster_id=cluster_id,
            pool_id=pool_id,
            image_store_id=image_store_id,
            account_id=account_id,
            domain_id=domain_id,
        )
        try:
            return key.parse(found.text)
        except errors.InvalidValue as exc:
            raise errors.BadStoredValue(key.name, found.where, found.text, key.expected) from exc

    def resolve(
        self,
        key: definitions.ConfigKey[Any],
        *,
        zone_id: int | None = None,
        cluster_id: int | None = None,
        pool_id: int | None = None,
        image_store_id: int | None = None,
        account_id: int | None = None,
        domain_id: int | None = None,
    ) -> Resolved:
        """The text in force for ``key`` at the named objects, unparsed (listConfigurations)."""
        named = {
            Scope.STORAGE_POOL: pool_id,
            Scope.IMAGE_STORE: image_store_id,
            Scope.CLUSTER: cluster_id,
            Scope.ZONE: zone_id,
            Scope.ACCOUNT: account_id,
            Scope.DOMAIN: domain_id,
        }
        for place in self._chain(key, named):
            text = store.scoped_text(self._session, place, key.name)
            if text is not None:
                return Resolved(text, place)
        text = store.global_text(self._session, key.name)
        if text is not None:
            return Resolved(text)
        return Resolved(key.default_text, is_default=True)

    def at(self, key: definitions.ConfigKey[Any], place: store.Place | None) -> Resolved:
        """``resolve`` for one place (None: the global value)."""
        if place is None:
            return self.resolve(key)
        return self.resolve(key, **{_ARGUMENT[place.scope]: place.id})

    def _chain(
        self, key: definitions.ConfigKey[Any], named: dict[Scope, int | None]
    ) -> list[store.Place]:
        """The places to try, most specific first, limited to the scopes ``key`` has."""
        places: dict[Scope, int] = {
            scope: ident for scope, ident in named.items() if ident is not None
        }
        for scope in definitions.PRECEDENCE:
            if scope in places and self._wants_parents(key, scope, places):
                for parent in store.parents(self._session, store.Place(scope, places[scope])):
                    places.setdefault(parent.scope, parent.id)
        return [
            store.Place(scope, places[scope])
            for scope in definitions.PRECEDENCE
            if scope in places and key.supports(scope)
        ]

    @staticmethod
    def _wants_parents(
        key: definitions.ConfigKey[Any], scope: Scope, known: dict[Scope, int]
    ) -> bool:
        missing = [parent for parent in _ABOVE.get(scope, ()) if parent not in known]
        return any(key.supports(parent) for parent in missing)


#: Scopes a place may inherit from (transitively), to skip reading parents nobody needs.
_ABOVE: dict[Scope, tuple[Scope, ...]] = {
    Scope.STORAGE_POOL: (Scope.CLUSTER, Scope.ZONE),
    Scope.CLUSTER: (Scope.ZONE,),
    Scope.IMAGE_STORE: (Scope.ZONE,),
    Scope.ACCOUNT: (Scope.DOMAIN,),
}

_ARGUMENT: dict[Scope, str] = {
    Scope.STORAGE_POOL: "pool_id",
    Scope.IMAGE_STORE: "image_store_id",
    Scope.CLUSTER: "cluster_id",
    Scope.ZONE: "zone_id",
    Scope.ACCOUNT: "account_id",
    Scope.DOMAIN: "domain_id",
}
