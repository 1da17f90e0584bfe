"""The HTTP plumbing every context shares: errors in one shape (`errors`), the browser guard
(`security`), request logs and traces (`observability`), streamed multipart bodies
(`multipart_stream`, with `filetypes` judging a file by its bytes), checked downloads from
the object store (`downloads`), Jinja and static files (`templating`), what console pages
share (`pages`) and the old console URLs' redirects (`moved`)."""
