"""pacsys-acl: pacsys transport: ACL CGI over HTTP, CGI emulator and ACL interpreter."""
