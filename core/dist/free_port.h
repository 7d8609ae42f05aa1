// A TCP port for the rendezvous when the user names none.
#pragma once

namespace syncbn::dist {

// Binds port 0 on 127.0.0.1 and returns the port the kernel chose. It is free at return; like
// torchrun's, the choice is racy in principle (another process may take it before rank 0 does).
// Throws std::system_error.
int pickFreePort();

}  // namespace syncbn::dist
