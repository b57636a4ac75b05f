// The PNG plots of `anser experiment`: learning curves, the fewest layers against sequence
// length per group (the shape of the RWKV-7 paper's Fig. 8), MQAR accuracy against pairs per
// width, and the ablations' validation-loss curves.
#pragma once

#include <string>
#include <vector>

#include "anser/status.h"
#include "experiments/ablation_experiment.h"
#include "experiments/group_word_experiment.h"
#include "experiments/mqar_experiment.h"

namespace anser::cli {

// curves.png (val_token_acc against step, one line per run) and, for a sweep, min_layers.png
// (one panel per group, one line per variant; "none" above the range).
Status PlotGroupWord(const std::string& dir, const GroupWordOptions& options,
                     const std::vector<GroupWordRun>& runs);

// accuracy.png: the best accuracy against pairs (log scale), one line per width.
Status PlotMqar(const std::string& dir, const MqarOptions& options, const std::vector<MqarRun>& runs);

// val_loss.png: validation loss against step, one line per variant (mean over the seeds).
Status PlotAblation(const std::string& dir, const AblationOptions& options,
                    const std::vector<AblationRun>& runs);

}  // namespace anser::cli
