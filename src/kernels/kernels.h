// The kernel seam: one table of function pointers per implementation (ref, avx2, …), chosen
// once. Kernels know nothing of models or files: raw pointers, sizes and small argument structs.
// Every member but bf16_products is non-null. Kernels never fail; callers check shapes once, up
// front.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "anser/status.h"
#include "core/dtype.h"

namespace anser {

struct CpuFeatures;  // core/cpu_features.h

// How a matrix's bytes are arranged. kRows: as stored, row after row. kTiles8, kTiles16:
// rearranged by a table's `pack` (block-quantized types only; see kernels/cpu/tiles.h), which
// only the tables that pack so read.
enum class MatLayout : uint8_t { kRows, kTiles8, kTiles16 };
// "rows", "tiles8", "tiles16": the names files record (docs/FORMATS.md, packed GGUF).
std::string_view MatLayoutName(MatLayout layout);

// A row-major matrix (rows × cols) in its stored type, read in place at any alignment. Rows are
// DTypeRowBytes(dtype, cols) bytes apart; for block-quantized types cols is a multiple of 32.
struct MatRef {
  DType dtype = DType::kF32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  MatLayout layout = MatLayout::kRows;
};

// One WKV-7 recurrence over n_tokens tokens for n_head heads of head_size N. Per head the
// state S is N×N, row i = value index, column j = key index:
//   S = S·diag(w) + (S·a)·bᵀ + v·kᵀ ;  y = S·r
// where the caller passes a = −κ̂ and b = κ̂⊙α. Token t's vectors are at `ptr + t*stride`,
// each holding n_head*N floats. `state` holds n_head*N*N floats and is updated in place.
struct Wkv7Args {
  int64_t n_tokens = 1;
  int64_t n_head = 0;
  int64_t head_size = 0;
  int64_t stride = 0;
  float* state = nullptr;
  const float* r = nullptr;
  const float* w = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  const float* a = nullptr;
  const float* b = nullptr;
  float* y = nullptr;
};

struct Bf16TrainProducts;

// Training's product entries (CpuKernels::gemm_nn … below): C = A·B or A·Bᵀ over n × k × m, and
// the weight gradient C += Aᵀ·B summed over n tokens.
using TrainGemmFn = void (*)(const float* a, const float* b, int64_t n, int64_t k, int64_t m,
                             float* c, bool accumulate, int threads);
using TrainGemmTnAccFn = void (*)(const float* a, const float* b, int64_t n, int64_t m, int64_t k,
                                  float* c, int threads);

// Batch invariance, which every table guarantees: row t of matmul(w, X, n, Y) is bitwise equal
// to matvec(w, X[t], y), for every stored type, layout, n and thread count. Each output is summed
// in one order fixed by the table and the matrix alone: never by n, by which other tokens share
// a call, or by how rows and tokens are split over threads. A sequence's logits are then the
// same alone and in a batch, and a prompt's however it is split into calls; wkv7 is sequential
// per head, so it is split-invariant by construction.
struct CpuKernels {
  const char* name;
  // y[rows] = W · x[cols]
  void (*matvec)(const MatRef& w, const float* x, float* y);
  // Y[n][rows] = X[n][cols] · Wᵀ for n rows of X (row stride cols, Y row stride rows); row t
  // bitwise matvec's for X[t].
  void (*matmul)(const MatRef& w, const float* x, int64_t n, float* y);
  void (*wkv7)(const Wkv7Args& args);
  // Rearranges w's bytes in place (`bytes` is w.data, writable) into the layout this table's
  // products read fastest and records it in w.layout; the same values, the same size. A matrix
  // is packed once, before its first product; the reference keeps every matrix as it is.
  void (*pack)(MatRef& w, void* bytes);

  // Training's float32 products (src/train/gemm.h), all row-major and of any sizes. They are not
  // bound by the batch invariance above: a table blocks them for the caches as it likes, but
  // sums each output in one order fixed by the table and the sizes alone, never by the threads,
  // so a training run is reproducible on a table. Up to `threads` of the kernel pool's threads
  // take output tiles.
  // C[n][m] = A[n][k] · B[k][m]   (or C += … when accumulate)
  TrainGemmFn gemm_nn;
  // C[n][m] = A[n][k] · B[m][k]ᵀ   (or C += …): a projection Y = X·Wᵀ with W stored (out, in).
  TrainGemmFn gemm_nt;
  // C[m][k] += A[n][m]ᵀ · B[n][k]: a weight gradient dW += dYᵀ·X summed over n tokens.
  TrainGemmTnAccFn gemm_tn_acc;
  // The bfloat16 products: the one member that may be null, where this table runs on a CPU
  // without a bfloat16 dot product (AVX-512 BF16). The reference has them, as the test oracle.
  const Bf16TrainProducts* bf16_products;
};

// Training's products with bfloat16 inputs (`anser train --precision bf16`): every input rounded
// to bfloat16 (nearest even) and the products summed in float32, as CpuKernels' gemm_* entries
// otherwise (the same arguments, the same reproducibility on any number of threads).
struct Bf16TrainProducts {
  TrainGemmFn gemm_nn;
  TrainGemmFn gemm_nt;
  TrainGemmTnAccFn gemm_tn_acc;
};

const CpuKernels& RefKernels();  // plain scalar C++: the specification and the test oracle
// The table the models use, chosen at the first call: the one SetKernels named, else
// $ANSER_KERNELS (ref|avx2|avxvnni|avx512) if this CPU runs it, else the best this CPU runs.
const CpuKernels& SelectKernels();
// The table SelectKernels returns, or will return if it has not run yet (this fixes nothing).
const CpuKernels& ChosenKernels();
// Makes the table named `name` the one SelectKernels returns. An error if this CPU does not run
// it, or if SelectKernels already returned another: weights are packed at load for the table in
// use, so the choice is made before the first model is loaded.
Status SetKernels(std::string_view name);
// The reference first, then every table this CPU runs, best last: ref, avx2 (AVX2, FMA, F16C),
// avxvnni (and AVX-VNNI), avx512 (and AVX-512 F, BW, VL, VNNI).
std::vector<const CpuKernels*> AllKernels();
// The table named `name` if this CPU runs it; otherwise an error naming the tables it runs.
Result<const CpuKernels*> FindKernels(std::string_view name);
// The layout `table.pack` gives block-quantized matrices: kRows where it keeps them as stored.
MatLayout PackedLayout(const CpuKernels& table);
// Undoes any table's pack of a block-type matrix: w's bytes (`bytes` is w.data, writable)
// rearranged in place back to the stored rows, w.layout kRows.
void UnpackMatrix(MatRef& w, void* bytes);
// Whether a CPU with `cpu`'s features runs the avx512 table.
bool Avx512Runs(const CpuFeatures& cpu);

// For tests that run the whole model on every table: SelectKernels() returns `table` until
// called again (nullptr: the choice above). A model packs its matrices for the table selected
// when it loads, so load it after choosing; never while kernels run.
void SelectKernelsForTesting(const CpuKernels* table);

// Threads the kernels split their work over, the caller included: 1 runs everything inline,
// n ≤ 0 means one per hardware thread (the default). The pool is shared by the whole process;
// a call waits for a running kernel to finish, so set it at start-up or per Session.
void SetKernelThreads(int n);
int KernelThreads();

}  // namespace anser
