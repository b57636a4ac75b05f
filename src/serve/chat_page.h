// GET /: the chat page, one self-contained HTML file (web/chat.html) embedded at build time.
#pragma once

#include <string>

namespace anser::serve {

const std::string& ChatPageHtml();

}  // namespace anser::serve
