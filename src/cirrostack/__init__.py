"""cirrostack: an IaaS cloud management server that speaks Apache CloudStack's API."""

__version__ = "0.1.0"

#: The CloudStack API level cirrostack answers as (listCapabilities.cloudstackversion).
CLOUDSTACK_API_VERSION = "4.18.0.0"
