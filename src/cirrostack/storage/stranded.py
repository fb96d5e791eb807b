"""What the reaper undoes besides the state when it recovers a storage row its job left behind.

A volume creation claims the pool's allocated capacity and records ``pool_id`` in the same
transaction that moves the volume Allocated → Creating; a template's first copy to a pool
claims the copy's ``template_size`` as it moves the ``template_spool_ref`` Allocated →
Creating. When the job dies before it ends either, the reaper's rule puts the row back to
Allocated (``states.recovery``) and these hooks give the claim back in the same savepoint, as
the job's own failure path would (``volume_create._undo``, ``template_pool._failed``): the
volume is on no pool again, and the pool's allocated bytes do not drift. A file the agent may
have made before the job died is left on the pool; the orphan scan finds it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cirrostack.allocators import claims


def volume_creation(session: Session, volume: Any) -> None:
    """A volume recovered from Creating: its claim released, on no pool."""
    if volume.pool_id is not None:
        claims.release(session, volume.pool_id, volume.size or 0)
    volume.pool_id = None
    volume.pool_type = None
    volume.path = None
    session.flush()


def template_copy_to_pool(session: Session, ref: Any) -> None:
    """A template's copy on a pool recovered from Creating: the copy's claim released."""
    claims.release(session, ref.pool_id, int(ref.template_size or 0))
    ref.template_size = 0
    session.flush()
