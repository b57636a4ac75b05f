// The process-wide settings of the C API, read by the calls that depend on them.
#pragma once

namespace anser::capi {

// Called after each successful model load: from then on the settings are fixed.
void NoteModelLoaded();
// The thread count sessions run with (0 = one per hardware thread).
int SessionThreads();

}  // namespace anser::capi
