"""Errors any service may raise, in the terms of the cloud rather than of HTTP.

    CloudError
     ├── InvalidParameterValue   a value is wrong (unknown id, bad name, out of range)
     ├── PermissionDenied        the caller may not touch this resource
     ├── ResourceInUse           the resource is still used by another one
     ├── ResourceUnavailable     the resource exists but cannot serve the request now
     ├── ConcurrentOperation     someone else changed the resource first
     ├── ResourceAllocation      a resource limit of the account or a domain would be exceeded
     └── InsufficientCapacity    no pool (host, ...) has room or suits the request

The API layer (``cirrostack.api.errors``) is the only place that turns these into CloudStack
error codes. Messages are written for the API user: they name the resource and the reason.
"""

from __future__ import annotations


class CloudError(Exception):
    """Root of the errors services raise; the message is shown to the API user."""


class InvalidParameterValue(CloudError):
    """A parameter value is wrong: unknown id, duplicate name, value out of range."""


class PermissionDenied(CloudError):
    """The caller may not see or change the resource."""


class ResourceInUse(CloudError):
    """The resource cannot be removed or changed while something else uses it."""


class ResourceUnavailable(CloudError):
    """The resource exists but cannot serve the request in its current state."""


class ConcurrentOperation(CloudError):
    """Another operation changed the resource first; retrying may succeed."""


class ResourceAllocation(CloudError):
    """Granting the request would exceed a resource limit (CloudStack's
    ResourceAllocationException); nothing was reserved."""


class InsufficientCapacity(CloudError):
    """No resource can take the request (CloudStack's InsufficientStorageCapacityException
    and kin); the message says why, e.g. an allocator decision's summary."""
