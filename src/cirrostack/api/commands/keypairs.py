"""createSSHKeyPair, registerSSHKeyPair, listSSHKeyPairs, deleteSSHKeyPair (sync, as in
CloudStack). createSSHKeyPair generates the pair in its ``before`` step, with no transaction
open; the private key is in the answer only."""

from __future__ import annotations

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.commands.owned import LIST_OWNER_PARAMS, OWNER_PARAMS, owner, wanted
from cirrostack.api.views import keypairs as views
from cirrostack.compute import keypairs
from cirrostack.db.models import attachments as models


def _acted_on(call: registry.Call, pair: models.SshKeyPair) -> None:
    call.acted_on = ("SSHKeyPair", pair.id, pair.keypair_name)


def _generate(before: registry.Before) -> keypairs.Generated:
    return keypairs.generate()


def create_keypair(call: registry.Call) -> responses.Reply:
    generated: keypairs.Generated = call.prepared
    pair = keypairs.register(call.session, owner(call), call.get("name"), generated.public_key)
    _acted_on(call, pair)
    [item] = views.keypair_items(call.session, [pair])
    return responses.Single("keypair", {**item, "privatekey": generated.private_key})


def register_keypair(call: registry.Call) -> responses.Reply:
    pair = keypairs.register(call.session, owner(call), call.get("name"), call.get("publickey"))
    _acted_on(call, pair)
    return responses.Single("keypair", views.keypair_items(call.session, [pair])[0])


def list_keypairs(call: registry.Call) -> responses.Reply:
    wanted_pairs = keypairs.KeyPairFilter(
        owners=wanted(call),
        name=call.get("name"),
        fingerprint=call.get("fingerprint"),
        keyword=call.get("keyword"),
    )
    found, total = keypairs.search(call.session, call.who, wanted_pairs, paging.page(call))
    return responses.Listing("sshkeypair", views.keypair_items(call.session, found), total)


def delete_keypair(call: registry.Call) -> responses.Reply:
    pair = keypairs.delete(call.session, owner(call).id, call.get("name"))
    _acted_on(call, pair)
    return responses.Success()


_NAME = P("name", T.STRING, "Name of the keypair", required=True)

COMMANDS = (
    registry.Command(
        "createSSHKeyPair",
        create_keypair,
        "Create a new keypair and returns the private key",
        (_NAME, *OWNER_PARAMS),
        views.KEYPAIR,
        event="REGISTER.SSH.KEYPAIR",
        before=_generate,
    ),
    registry.Command(
        "registerSSHKeyPair",
        register_keypair,
        "Register a public key in a keypair under a certain name",
        (_NAME, P("publickey", T.STRING, "Public key material", required=True, length=5120)),
        views.KEYPAIR,
        event="REGISTER.SSH.KEYPAIR",
    ),
    registry.Command(
        "listSSHKeyPairs",
        list_keypairs,
        "List registered keypairs",
        (
            P("name", T.STRING, "A key pair name to look for"),
            P("fingerprint", T.STRING, "A public key fingerprint to look for"),
            *LIST_OWNER_PARAMS,
            *paging.PARAMS,
        ),
        views.KEYPAIR,
    ),
    registry.Command(
        "deleteSSHKeyPair",
        delete_keypair,
        "Deletes a keypair by name",
        (_NAME, *OWNER_PARAMS),
        event="DELETE.SSH.KEYPAIR",
    ),
)
