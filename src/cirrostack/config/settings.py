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

``get_each`` (one key at many places) and ``values_at`` (many keys at one place) read in a fixed
number of queries, for list answers. Nothing is cached: a value written in this transaction (or
committed by another server) is seen by the next ``get``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
        return parsed(key, found)

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
        return self._resolved([key], {None: self._chain(key, named)})[(key.name, None)]

    def at(self, key: definitions.ConfigKey[Any], place: store.Place | None) -> Resolved:
        """``resolve`` for one place (None: the global value)."""
        if place is None:
            return self.resolve(key)
        return self.resolve(key, **{_ARGUMENT[place.scope]: place.id})

    def get_each(
        self, key: definitions.ConfigKey[T], scope: Scope, ids: Iterable[int]
    ) -> dict[int, T]:
        """The value of ``key`` in force at each ``scope`` object of ``ids``, typed.

        Called by list answers (a page of clusters, the hosts' clusters): a fixed number of
        queries however many ids. Raises BadStoredValue as ``get`` does.
        """
        found = self.resolve_each([key], scope, ids)
        return {ident: parsed(key, text) for (_, ident), text in found.items()}

    def resolve_each(
        self, wanted: Sequence[definitions.ConfigKey[Any]], scope: Scope, ids: Iterable[int]
    ) -> dict[tuple[str, int], Resolved]:
        """The text in force for each of ``wanted`` at each ``scope`` object of ``ids``, by
        (key name, id): one query per scope on the way up and one for the global values."""
        places = [store.Place(scope, ident) for ident in set(ids)]
        found = self._resolved(wanted, self._chains(places))
        return {
            (key.name, place.id): found[(key.name, place)] for key in wanted for place in places
        }

    def values_at(
        self, wanted: Sequence[definitions.ConfigKey[Any]], place: store.Place | None
    ) -> dict[str, Resolved]:
        """The text in force for each of ``wanted`` at ``place`` (None: global), by key name.

        Called by listConfigurations for a page of keys: a fixed number of queries.
        """
        chains = self._chains([place]) if place is not None else {None: []}
        found = self._resolved(wanted, chains)
        return {key.name: found[(key.name, place)] for key in wanted}

    def _chains(self, places: Sequence[store.Place]) -> dict[_Target, list[store.Place]]:
        """Each place with the places above it, nearest first (one query per scope)."""
        above: dict[store.Place, list[store.Place]] = {}
        for scope in {place.scope for place in places}:
            ids = [place.id for place in places if place.scope is scope]
            for ident, parents in store.parents_of(self._session, scope, ids).items():
                above[store.Place(scope, ident)] = parents
        chains: dict[_Target, list[store.Place]] = {}
        for place in places:
            chains[place] = [place, *above.get(place, [])]
        return chains

    def _resolved(
        self,
        wanted: Sequence[definitions.ConfigKey[Any]],
        chains: Mapping[_Target, list[store.Place]],
    ) -> dict[tuple[str, _Target], Resolved]:
        """For every key and target: the first override along the target's chain (scopes the
        key has), else the global value, else the default. One query per scope and one for
        the global values, whatever the number of keys and targets."""
        texts: dict[tuple[store.Place, str], str] = {}
        for scope in {place.scope for chain in chains.values() for place in chain}:
            ids = {place.id for chain in chains.values() for place in chain if place.scope is scope}
            names = [key.name for key in wanted if key.supports(scope)]
            for (ident, name), text in store.scoped_texts(self._session, scope, ids, names).items():
                texts[(store.Place(scope, ident), name)] = text
        stored = store.global_texts(self._session, [key.name for key in wanted])
        found: dict[tuple[str, _Target], Resolved] = {}
        for target, chain in chains.items():
            for key in wanted:
                found[(key.name, target)] = _first(key, chain, texts, stored.get(key.name))
        return found

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


_Target = store.Place | None


def _first(
    key: definitions.ConfigKey[Any],
    chain: list[store.Place],
    texts: Mapping[tuple[store.Place, str], str],
    stored: str | None,
) -> Resolved:
    for place in chain:
        text = texts.get((place, key.name))
        if text is not None and key.supports(place.scope):
            return Resolved(text, place)
    if stored is not None:
        return Resolved(stored)
    return Resolved(key.default_text, is_default=True)


def parsed(key: definitions.ConfigKey[T], found: Resolved) -> T:
    """``found``'s text as ``key``'s type; raises BadStoredValue naming where it came from."""
    try:
        return key.parse(found.text)
    except errors.InvalidValue as exc:
        raise errors.BadStoredValue(key.name, found.where, found.text, key.expected) from exc


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
