def run(event):
    return {"echo": event}
