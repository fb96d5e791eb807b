"""The async job engine: jobs live in ``async_job``; workers claim them with leases.

    queue.py    the SQL: submit, claim (FOR UPDATE SKIP LOCKED), renew, finish, expire, cancel
    keys.py     queue keys: the resources a job locks (several per job), the unique running key
    clock.py    the database's UTC clock (leases never trust a server's local clock)
    lease.py    job.lease.seconds and job.cancel.threshold.minutes, read where they are used
    context.py  what a running job may use: fence, checkpoint, activity, progress, cancel
    runner.py   claim/run/finish/fail for any job body; Inline runs jobs without a pool
    worker.py   a pool of threads per management server that claims and runs jobs
    reaper.py   fails silent jobs, expires dead leases, recovers rows no live job owns

The engine knows nothing about the API: what a job does is the ``runner.Body`` the composition
root hands to the runner (``cirrostack.api.jobs.CommandBody`` runs API commands).
"""
