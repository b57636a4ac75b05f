// log.csv of a training run: one row a step, `step,tokens,loss,val_loss,lr,tok_s,elapsed_s`
// (val_loss empty on steps without an evaluation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anser/status.h"

namespace anser {

struct LogRow {
  int64_t step = 0;        // optimiser steps done
  int64_t tokens = 0;      // training tokens seen
  double loss = 0.0;       // this step's batch loss (mean cross-entropy, nats/token)
  double val_loss = -1.0;  // validation loss; negative when not evaluated at this step
  double lr = 0.0;         // learning rate of this step
  double tok_s = 0.0;      // training tokens per second of this step
  double elapsed_s = 0.0;  // wall time of the run so far (resumed runs continue the count)
};

inline constexpr char kLogHeader[] = "step,tokens,loss,val_loss,lr,tok_s,elapsed_s";

std::string FormatLogRow(const LogRow& row);  // no newline

// Writes the header and `rows` to `path` atomically (temporary file + rename).
Status WriteLog(const std::string& path, const std::vector<LogRow>& rows);
// Appends one row (the file exists, header written).
Status AppendLog(const std::string& path, const LogRow& row);

// Parses a log.csv (the header must match kLogHeader).
Result<std::vector<LogRow>> ReadLog(const std::string& path);

}  // namespace anser
