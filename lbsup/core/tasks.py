from huey.contrib.djhuey import task


@task()
def ping(value):
    """Proves the queue wiring end to end (enqueue → storage → worker → result)."""
    return {"pong": value}
