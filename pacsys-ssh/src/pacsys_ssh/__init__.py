"""pacsys-ssh: pacsys transport: SSH client, remote processes and ACL over SSH."""
