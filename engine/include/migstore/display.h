// How names and text are shown to people and machines (docs/cli.md,
// "Names"): the one escaping the command uses on the terminal, in its logs
// and in its JSON, and that the library uses for the JSON it hands out
// (SmpListingToJson, migstore_smp_list), so the two can never differ.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_DISPLAY_H_
#define MIGSTORE_DISPLAY_H_

#include <string>
#include <string_view>

namespace migstore {

// Byte strings for people and machines: valid UTF-8 stays as it is; a byte
// that is not part of valid UTF-8 becomes the four characters \xNN, and a
// backslash is doubled, so the original bytes can always be recovered.
// Control characters are shown as \xNN too (a newline in a name).
std::string DisplayBytes(std::string_view bytes);
// Text to be read rather than recovered — messages, rule patterns — escaped
// as DisplayBytes does but with backslashes kept as they are, so a Windows
// pattern reads `C:\Users\* [*]`: no control byte or invalid UTF-8 gets
// through, though a literal "\x1b" in the text looks like an escaped one.
std::string DisplayText(std::string_view bytes);

}  // namespace migstore

#endif  // MIGSTORE_DISPLAY_H_
