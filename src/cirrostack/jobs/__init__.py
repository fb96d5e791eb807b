"""The async job engine: jobs live in ``async_job``; workers claim them with leases.

    queue.py    the SQL: submit, claim (FOR UPDATE SKIP LOCKED), renew, finish, expire, cancel
    clock.py    the database's UTC clock (leases never trust a server's local clock)
    worker.py   a pool of threads per management server that claims and runs jobs
    reaper.py   expires dead leases and recovers resources left transitional without a job

The engine knows nothing about the API: what a job does is the ``execute`` callable the
composition root hands to the worker pool (``cirrostack.api.jobs`` runs API commands).
"""
