-- An empty POST on every request (the bare project's insert view).
wrk.method = "POST"
