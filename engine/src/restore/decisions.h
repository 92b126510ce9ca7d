// A window's plan kept on the restore's scratch file between its passes
// (docs/design.md, "Bounded memory"): pass one plans every window before
// anything is written (every refusal told first), and pass two applies
// them one by one, replaying what pass one decided rather than planning
// again (which would see pass two's own writes: a folder made for an
// earlier window would become one to merge into).
//
// A decision is an item without what the window's catalog and content
// records give back (its entry's fields, its content record) nor what
// only pass one tells (reasons, errors): a few bytes an entry, plus the
// destinations that are not the entry's path.
//
// Thread safety: plain functions; the scratch file is the caller's (one
// thread at a time).

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_DECISIONS_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_DECISIONS_H_

#include <vector>

#include "engine/src/restore/plan.h"
#include "format/spill_file.h"
#include "migstore/result.h"

namespace migstore::restore {

// Appends `items`' decisions to `spill`, the pieces written to *pieces.
Status SaveDecisions(const std::vector<Item>& items, format::SpillFile* spill,
                     std::vector<format::SpillFile::Piece>* pieces);

// The items SaveDecisions wrote, for a window of `entries` catalog entries:
// action, flags, owner, destination and hard-link leader; `content`,
// reasons and errors are not kept. Corruption when the pieces do not
// decode to items of such a window.
Result<std::vector<Item>> LoadDecisions(
    const format::SpillFile& spill,
    const std::vector<format::SpillFile::Piece>& pieces, size_t entries);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_DECISIONS_H_
