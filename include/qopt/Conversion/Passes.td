//===- Passes.td - qopt conversion passes ------------------*- tablegen -*-===//
//
// The passes that take integer (and remaining float) linalg on tensors to
// CPU code: the target attributes, the packed-weight GEMM micro-kernels,
// the VNNI (x86) and NEON sdot/smmla (aarch64) instruction selection and
// the final "nothing left" check. The
// pipeline that strings them together with upstream's bufferization and
// LLVM lowering is qopt-lower-cpu (include/qopt/Pipelines/LowerCPUPipeline.h).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_PASSES_TD
#define QOPT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPUSetTarget : Pass<"qopt-cpu-set-target", "::mlir::ModuleOp"> {
  let summary = "Record the CPU target (triple, cpu, features) on the module and its functions";
  let description = [{
    Checks the target against LLVM's target registry and writes it where the
    later passes and the LLVM translation read it: `llvm.target_triple` on
    the module, `target_cpu` and `target_features` on every function
    definition (carried to `llvm.func` and to the LLVM IR function
    attributes). Public functions also get `llvm.emit_c_interface`, so each
    source function `@f` stays callable as `@f` (memref descriptors
    expanded) and as `@_mlir_ciface_f` (descriptors by pointer).

    `cpu=host` (the default) resolves to the CPU and features of the machine
    running the compiler, which is what a JIT wants.

    ```mlir
    // Before
    func.func @f(%a: tensor<4xi8>) -> tensor<4xi8>
    // After, with target=x86_64 cpu=znver4
    module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
      func.func @f(%a: tensor<4xi8>) -> tensor<4xi8> attributes {
          llvm.emit_c_interface, target_cpu = "znver4"}
    }
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"target", "target", "std::string", "\"x86_64\"",
           "Architecture: x86_64 or aarch64 (or a full target triple)">,
    Option<"cpu", "cpu", "std::string", "\"host\"",
           "CPU name as llc's -mcpu takes it (znver4, sapphirerapids, "
           "neoverse-v1, ...); `host` is the compiling machine">,
    Option<"features", "features", "std::string", "\"\"",
           "Extra target features, `+avx512vnni,-avx512bf16` style">,
  ];
}

def CPUGemm : Pass<"qopt-cpu-gemm", "::mlir::func::FuncOp"> {
  let summary = "Rewrite contractions with constant weights into packed-weight GEMM micro-kernels";
  let description = [{
    Matches `linalg.generic` contractions whose body is
    `out + ext(a) * ext(w)` on i8 -> i32 (the form qopt-fold-requant leaves)
    or `out + a * w` on f32, where `w` is a constant, and where every
    parallel loop belongs to exactly one of the two inputs: matmul, matmul
    with transposed maps, and convolutions (NHWC, NCHW, any strides and
    dilations) as an implicit GEMM. Batch-like loops (depthwise
    convolutions, batch matmul), dynamic shapes and everything else are
    left alone for the generic lowering.

    The rewrite is, on tensors:

    * `A[M, K]`: the activation operand, an im2col copy when its map is not
      already `(m..., k...)`; for the f32 step (which reads A one scalar at
      a time) the copy is K-major, `A^T[K, M]`, so that its innermost loop
      runs along the output columns of an NCHW convolution, contiguous on
      both sides (in `(m..., k...)` order LLVM made it gathers and
      scatters);
    * `W`: packed at compile time into `[ceil(N/16)][ceil(K/G)][16*G]`
      (G = 4 for i8, 1 for f32), zero padded, so one 64-byte load feeds
      one VNNI step;
    * i8: the activation is biased by +128 to u8 (`xor 0x80`) so that the
      step is u8 x s8 (vpdpbusd). `sum((a+128) w) = sum(a w) + 128 colsum(w)`,
      so `128 colsum(w)`, a compile-time constant per column, is subtracted
      from the i32 accumulator init;
    * a register-tiled loop nest (`tile-m` rows x `tile-n` vectors of 16
      accumulators) over scf.for and vector ops. The i8 step is
      `vector.contract` of `extsi(vector<16x4xi8>)` with
      `extui(vector<4xi8>)`, exact on any target and rewritten into
      vpdpbusd by qopt-x86-vnni; the f32 step is `vector.fma` with a
      broadcast activation. Remainders in N are masked, in K zero padded,
      in M run by a one-row kernel.

    On aarch64 the step follows the function's target (`target_cpu` /
    `target_features`, as qopt-cpu-set-target records them):

    * `i8mm`: G = 8 and signed x signed. Rows go in pairs and each 2x2
      block of C is one `vector<4xi32>` in smmla's layout (rows shuffled
      in before the K loop and out after it); a packed row's column pair
      is smmla's 8x2 operand. The step is a 2x8 by (2x8)^T
      `vector.contract` per block, which qopt-arm-neon turns into smmla.
      An odd last row runs as a pair whose second row is zero.
    * `dotprod` (without i8mm): the layout above, signed x signed with no
      bias and no compensation; qopt-arm-neon turns the step into sdot.
    * neither: the u8 x s8 kernel above, lowered generically.

    On aarch64 `tile-n` is narrowed until the accumulators fit in 16 of
    NEON's 32 vector registers (with the default tile-m=4: one block of 16
    columns), and tile-m is made even for smmla.

    A weight that is a copy of a constant through an indexing map that only
    moves elements (the ONNX importer's ConvTranspose weight: the
    initializer transposed and flipped) is evaluated into a constant first
    (f32 and i8), so its contraction takes the kernel too.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
  let options = [
    Option<"tileM", "tile-m", "unsigned", "4",
           "Rows of the register tile">,
    Option<"tileN", "tile-n", "unsigned", "4",
           "16-lane vectors per row of the register tile">,
  ];
  let statistics = [
    Statistic<"numInt8", "int8-gemms", "i8 contractions rewritten">,
    Statistic<"numF32", "f32-gemms", "f32 contractions rewritten">,
    Statistic<"numFoldedWeights", "folded-weights",
              "Weight copies of constants evaluated into constants">,
  ];
}

def CPUBatchMatmul
    : Pass<"qopt-cpu-batch-matmul", "::mlir::func::FuncOp"> {
  let summary = "Register-tiled f32 matmuls and batch matmuls of two "
                "computed operands";
  let description = [{
    `qopt-cpu-gemm` packs a constant weight at compile time; a product of
    two activations (attention's `Q . K^T` and `P . V`, which every
    quantization mode keeps in float) has none, and the loop lowering makes
    a scalar dot product of each output element. This pass rewrites each
    f32 `linalg.matmul` and `linalg.batch_matmul` with default indexing
    maps, static shapes, no constant operand and N a multiple of 16 into a
    loop nest on tensors: per batch, per block of `tile-n` vectors of 16
    columns and per `tile-m` rows, `tile-m` x `tile-n` `vector<16xf32>`
    accumulators (from C, or the fill value when C is a `linalg.fill`), and
    over K a `vector.fma` of a broadcast element of A with 16 contiguous
    elements of the right operand, read where it lies. Rows left over run
    one at a time; a last block narrower than `tile-n` vectors gets its own
    tile.

    Every output is still summed over K in order, one fused multiply-add
    per step (as `qopt-cpu-gemm`'s f32 kernel); the loop lowering rounds
    product and sum apart, so the results may differ from it by float32
    rounding.

    ```mlir
    %r = linalg.batch_matmul ins(%q, %k : tensor<12x128x64xf32>,
        tensor<12x64x128xf32>) outs(%zero : tensor<12x128x128xf32>)
    // becomes scf.for %b, scf.for %n0 (step 64), scf.for %m0 (step 4),
    // 16 vector<16xf32> accumulators, scf.for %k: vector.fma
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
  let options = [
    Option<"tileM", "tile-m", "unsigned", "4",
           "Rows of the register tile">,
    Option<"tileN", "tile-n", "unsigned", "4",
           "16-lane vectors per row of the register tile">,
  ];
  let statistics = [
    Statistic<"numRewritten", "rewritten",
              "matmuls and batch matmuls rewritten">,
  ];
}

def CPUDepthwise : Pass<"qopt-cpu-depthwise", "::mlir::func::FuncOp"> {
  let summary = "Vectorize NCHW depthwise convolutions along the output width";
  let description = [{
    A depthwise convolution has no contraction over channels, so
    `qopt-cpu-gemm` does not take it and the loop lowering makes a scalar
    7-deep loop nest of it. This pass matches the `linalg.generic` the ONNX
    importer makes of a `Conv` with `group` = channels, in NCHW:

    ```mlir
    // (n, c, oh, ow, g, kh, kw); g has size 1
    indexing_maps = [(n, c + g, oh * SH + kh * DH, ow * SW + kw * DW),
                     (c, g, kh, kw), (n, c, oh, ow)]
    // body: out + x * w (f32), or out + extsi(x) * extsi(w) (i8 -> i32)
    ```

    (and upstream's `linalg.depthwise_conv_2d_nchw_chw` once generalized),
    and rewrites it on tensors into `scf.for` loops over (n, c, oh) and
    blocks of `vector-width` output columns (a shorter vector for the last
    block): each block's accumulator is read from the init, gets one
    vector multiply and one vector add per kernel tap (input row slice times
    the broadcast weight; with a width stride the slice is read whole and
    every SW-th lane kept), and is written back. The taps are added in the
    generic's order (kh, then kw) with the same operations, so the results
    are bit-identical to the loop lowering: a float multiply and add are not
    fused into an FMA. Anything else (another layout, a channel multiplier,
    dynamic shapes, an input too small for the maps) is left alone.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "unsigned", "16",
           "Output columns per vector (the last block of a row may be shorter)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
  let statistics = [
    Statistic<"numRewritten", "rewritten", "Depthwise convolutions vectorized">,
  ];
}

def CPUMatMulNBits : Pass<"qopt-cpu-matmul-nbits", "::mlir::func::FuncOp"> {
  let summary = "Lower qopt.matmul_nbits to a GEMM that dequantizes weight blocks in registers";
  let description = [{
    Rewrites every `qopt.matmul_nbits` (4- or 8-bit per-group weights, float
    activations) into a register-tiled loop nest on tensors. The constant
    weight is repacked at compile time, still 4 or 8 bits per value.

    * 4 bits, groups a multiple of 8 (nibble planes): `[ceil(N/16)][K/8][16]`
      i32 words, nibble j of a word holding K = 8c + j of one column, so one
      64-byte load gives 8 K steps of 16 columns. Each byte of the word is
      shifted to the bottom (one shift per byte), and its nibble at bit 4p
      (p = 0, 1) is masked in place and OR-ed into the exponent of
      2^(23-4p) (one vpternlogd): that float is `2^(23-4p) + q` exactly,
      and subtracting `2^(23-4p) + zero_point` gives `q - zero_point`
      exactly. Zero points are kept as one i8 per column and group (none
      when the op has none); tiles of 16 columns run in pairs.
    * Otherwise: `[ceil(N/16)][K/2][16]` bytes (4 bits: the low nibble holds
      an even K index, the high nibble the next one) or `[ceil(N/16)][K][16]`
      bytes (8 bits); the byte is zero-extended to i32, masked or shifted,
      OR-ed into the mantissa of 2^23, and `2^23 + zero_point` is
      subtracted.

    The float weight matrix is never written to memory.

    * One row (GEMV, memory bound): per group, two accumulators per 16
      columns sum `(q - zp) * a[k]` for even and odd K, and at the end of the
      group `acc += (even + odd) * scale` (one FMA per group and 16 columns).
    * Several rows: each dequantized weight vector is scaled once,
      `w = (q - zp) * scale`, and shared by `tile-m` rows of broadcast
      activations (vector.fma).

    An op with `compute bf16` takes the AVX512-BF16 kernel
    (docs/numerics.md, "bf16 compute for weight-only"): the activations are
    rounded to bf16 once (`x86vector.avx512.cvt.packed.f32_to_bf16`, i.e.
    vcvtneps2bf16); each K pair of 16 columns is dequantized and scaled in
    float32, `w = (q - zp) * scale`, and rounded the same way, the weight
    constant being packed so that the two converted halves concatenate into
    the order vdpbf16ps reads; one `x86vector.avx512.dot` (vdpbf16ps) per
    row, K pair and 16 columns accumulates in float32. One accumulator
    chain per output runs over all of K in order, so the result is defined
    bit for bit. Up to 16 rows share each converted weight pair (`tile-m`
    does not apply); one row shares each activation pair between `tile-n`
    tiles. A function whose target lacks avx512bf16 gets an error.

    Columns beyond N are zero padded in the packed constant and masked on
    store. Fails with an error on a weight, scale or zero point that is not
    a constant.

    An op with `int8_block` (MatMulNBits accuracy_level 4) takes a separate
    path that reproduces ONNX Runtime's result bit for bit
    (docs/numerics.md, section 10): each row of the input is quantized to
    int8 per group once (codes as i8, permuted), the weight is repacked (4
    bits per value, 64 bytes per unit of 128 values) so that each of MLAS's
    16 float lanes owns 4 consecutive bytes, each unit of 128 (or 64)
    values costs one or two lane-wise u8 x s8 dot steps (vpdpbusd through
    qopt-x86-vnni where the target has AVX-512 VNNI, widened i32 products
    elsewhere; the integer sums are exact either way) and one fma per 16
    lanes, and the lanes are reduced in MLAS's order, then bias and the
    zero-point correction (computed for 16 columns at once) are added.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::x86vector::X86VectorDialect"];
  let options = [
    Option<"tileM", "tile-m", "unsigned", "4",
           "Rows of the register tile when there are several rows">,
    Option<"tileN", "tile-n", "unsigned", "4",
           "16-column vectors per register tile">,
  ];
  let statistics = [
    Statistic<"numRewritten", "matmul-nbits", "qopt.matmul_nbits lowered">,
  ];
}

def X86Vnni : Pass<"qopt-x86-vnni", "::mlir::func::FuncOp"> {
  let summary = "Select vpdpbusd for u8 x s8 dot-product contractions";
  let description = [{
    Rewrites the VNNI-shaped contraction that qopt-cpu-gemm emits,

    ```mlir
    %b = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
    %a = arith.extui %x : vector<4xi8> to vector<4xi32>
    %r = vector.contract {(n,k)->(n,k), (n,k)->(k), (n,k)->(n)} %b, %a, %acc
    ```

    into `llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%acc, %x4, %w)`
    with the four activation bytes broadcast to all 16 lanes (operand 2 is
    the unsigned one), and the lane-wise form that qopt-cpu-matmul-nbits's
    int8-block path emits (both operands `vector<16x4xi8>`, the unsigned one
    widened by `arith.extui`, the signed one by `arith.extsi`, indexing maps
    `(n,k)->(n,k), (n,k)->(n,k), (n,k)->(n)`) into the same intrinsic with
    both byte vectors as they are. Upstream has no vpdpbusd op and LLVM only matches
    vpdpbusd on full add-reductions. Functions whose `target_cpu` /
    `target_features` lack avx512vnni or avx512bw are left alone (the
    contraction then lowers exactly through upstream's patterns). The
    intrinsic call has unknown memory effects for MLIR, so the pass runs
    after bufferization and buffer deallocation.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect"];
  let statistics = [
    Statistic<"numVnni", "vpdpbusd", "Contractions turned into vpdpbusd">,
  ];
}

def ArmNeon : Pass<"qopt-arm-neon", "::mlir::func::FuncOp"> {
  let summary = "Select NEON sdot / smmla for s8 x s8 dot-product contractions (aarch64)";
  let description = [{
    Instruction selection for aarch64's int8 dot products, on the signed x
    signed steps that qopt-cpu-gemm emits for aarch64 targets with
    `dotprod` or `i8mm` (no +128 bias is needed there: both instructions
    take s8 x s8).

    With `dotprod` (FEAT_DotProd, Armv8.2+, e.g. neoverse-n1), the 4-way
    step

    ```mlir
    %b = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
    %a = arith.extsi %x : vector<4xi8> to vector<4xi32>
    %r = vector.contract {(n,k)->(n,k), (n,k)->(k), (n,k)->(n)} %b, %a, %acc
    ```

    becomes four `arm_neon.intr.sdot` (one per quarter of the 16 i32
    lanes, 16 weight bytes each) with the four activation bytes broadcast
    as one i32; llc selects the indexed `sdot v.4s, v.16b, v.4b[0]`.
    Upstream has no contraction-to-sdot pattern.

    With `i8mm` (FEAT_I8MM, Armv8.6+, e.g. neoverse-v1), the 2x2 block step

    ```mlir
    %r = vector.contract {(m,n,k)->(m,k), (m,n,k)->(n,k), (m,n,k)->(m,n)}
        extsi(%a : vector<2x8xi8>), extsi(%w : vector<2x8xi8>), %acc : vector<2x2xi32>
    ```

    becomes one `arm_neon.intr.smmla` through upstream's
    `arm_neon::populateLowerContractionToNeonI8MMPatterns`, applied to the
    contractions only.

    Functions whose module is not aarch64 or whose `target_cpu` /
    `target_features` lack the instruction are left alone; the contraction
    then lowers exactly through upstream's vector patterns. The arm_neon
    `intr.*` ops are LLVM intrinsic ops: they stay through the LLVM
    conversions, qopt-cpu-check-lowered accepts them, and
    `mlir-translate --mlir-to-llvmir` emits `llvm.aarch64.neon.sdot` /
    `llvm.aarch64.neon.smmla`.
  }];
  let dependentDialects = ["::mlir::arm_neon::ArmNeonDialect",
                           "::mlir::vector::VectorDialect"];
  let statistics = [
    Statistic<"numSdot", "sdot", "Contractions turned into four sdot">,
    Statistic<"numSmmla", "smmla", "smmla instructions emitted">,
  ];
}

def CPUVectorizeElementwise
    : Pass<"qopt-cpu-vectorize-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Tile and vectorize linalg.generic ops whose innermost loop "
                "is parallel";
  let description = [{
    Requantizations, bias adds, activations and (de)quantizations are
    all-parallel `linalg.generic` ops on tensors after fusion; the lane-wise
    partial min/max of `qopt.dynamic_quantize`'s lowering is a reduction over
    outer loops whose innermost loop is parallel. This pass tiles the
    innermost loop of each such op (static shapes, scalar bodies, for a
    reduction the outputs indexed by the innermost loop) by
    `vector-width`, or the widest of its halves down to 4 that divides the
    loop, and every other loop by 1, with `scf.for` on tensors, and
    vectorizes each full tile with upstream's linalg vectorizer
    (`vector.transfer_read`/`transfer_write`; masked vectorization of
    partial tiles produces invalid `vector.mask` ops in MLIR 22.1.8 on
    these generics, so loops whose size 4 does not divide stay for the
    loop lowering). The body's operations are kept one for one,
    only widened to vectors, and a reduction still visits its reduced loops
    in order, one step at a time, so the results are bit-identical to the
    loop lowering. What the vectorizer does not take is left to the loops.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "unsigned", "16",
           "Elements per vector along the innermost loop">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
  let statistics = [
    Statistic<"numVectorized", "vectorized", "Tiles vectorized">,
  ];
}

def CPUFuseElementwise
    : Pass<"qopt-cpu-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg producers that are not recomputed";
  let description = [{
    Upstream's elementwise fusion (`linalg-fuse-elementwise-ops`) with one
    more condition: a producer is fused into its consumer only when the
    consumer's iteration space has no more points than the producer's, so no
    element of the producer is computed more than once. Upstream's pass also
    fuses a producer into a consumer that reads each element many times: a
    quantization (`arith` divide, round, clamp per element) into the im2col
    copy `qopt-cpu-gemm` makes for a convolution runs once per window tap
    (measured on a 3x3 convolution: 4608 quantizations instead of 800, and
    the int8 model 1.8x slower than the f32 one). Also folds reshapes into
    generics by expansion and runs the canonicalizations upstream's pass
    runs, under the same condition.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numRefused", "refused",
              "Fusions refused because the producer would be recomputed">,
  ];
}

def CPUExpandCopies : Pass<"qopt-cpu-expand-copies", "::mlir::func::FuncOp"> {
  let summary = "Rewrite copies between strided buffers as linalg.copy";
  let description = [{
    After bufferization, `tensor.pad` and `tensor.insert_slice` become
    `memref.copy` into a strided view of a larger buffer. The LLVM lowering
    turns a copy between buffers that are not both contiguous into a call of
    the runtime's generic `memrefCopy`, which walks the elements one by one
    with index arithmetic: on PaddleOCR's direction classifier it took 19%
    of the float model's time. This pass rewrites each such copy as
    `linalg.copy`, which the loop lowering turns into a loop nest whose
    innermost loop runs along the last dimension (unit stride in every copy
    qopt makes), which LLVM vectorizes. Copies between contiguous buffers
    stay `memref.copy` (`llvm.memcpy`). Runs after bufferization and before
    `convert-linalg-to-loops`; values are copied unchanged.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
  let statistics = [
    Statistic<"numExpanded", "expanded", "Strided copies rewritten">,
  ];
}

def CPUExpandMath : Pass<"qopt-cpu-expand-math", "::mlir::func::FuncOp"> {
  let summary = "Expand math ops that have no LLVM intrinsic (math.erf)";
  let description = [{
    `convert-math-to-llvm` lowers the math ops LLVM has an intrinsic for
    (exp, log, sqrt, ...); `math.erf` has none, and an imported ONNX `Erf`
    (BERT's GELU) would stop qopt-lower-cpu at its final check. This pass
    rewrites each `math.erf` on f32 scalars or vectors into upstream MLIR's
    polynomial approximation (`populatePolynomialApproximateErfPattern`:
    arith and `math.fma` only, so it stays vectorized), before the LLVM
    conversions. Its largest error against the float64 erf over
    [-6, 6] is measured by `test/Conversion/LinalgToCPU/cpu-expand-math.test`
    (at most 2^-22 absolute; ONNX Runtime uses its own polynomial, so the
    two are not bit-identical).

    ```mlir
    %y = math.erf %x : vector<16xf32>
    // becomes arith.mulf/addf/divf, math.fma, arith.select ... on vector<16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
  let statistics = [
    Statistic<"numExpanded", "expanded", "math.erf ops expanded">,
  ];
}

def CPUCheckLowered : Pass<"qopt-cpu-check-lowered", "::mlir::ModuleOp"> {
  let summary = "Fail when anything outside the LLVM dialect is left";
  let description = [{
    The last pass of qopt-lower-cpu: every op left in the module must belong
    to the LLVM dialect (the module itself excepted) or be one of arm_neon's
    LLVM intrinsic ops (`arm_neon.intr.*`, from qopt-arm-neon), so that
    `mlir-translate --mlir-to-llvmir` accepts the result. Each op that is
    not is reported by name at its location, and compilation fails.
  }];
}

def ReportPerf : Pass<"qopt-report-perf", "::mlir::ModuleOp"> {
  let summary = "Report what makes the int8 program slow on a CPU (a speed lint)";
  let description = [{
    Reads the integer form of a quantized module (the output of
    qopt-fold-requant, before qopt-lower-quant: quantized types still on
    the values) and reports, in the model's own tensor names (locations;
    ONNX tensor names after import), what keeps int8 from being fast once
    qopt-lower-cpu has compiled it:

    * ops left in float (fallbacks between `quant.dcast` and
      `quant.qcast`), with their share of the model's MACs;
    * quantize/dequantize steps at the borders of the float regions;
    * requantize steps that did not fold (i8 -> i8 steps and chains, as
      opposed to the one requantize of each kernel's i32 accumulator);
    * zero-point corrections left in a kernel's inner loop (not folded into
      the accumulator's initial value, where the bias goes);
    * activations (ReLU, clamp) that were not fused into a requantize;
    * layout work: transposes and copies in the model, and what
      qopt-lower-cpu adds, predicted with qopt-cpu-gemm's own matcher:
      im2col copies (and a quantize fused into one, computed once per
      copied element), transposed accumulators, weights packed at compile
      time, and contractions it leaves to scalar loops.

    It then estimates int8 time over f32 time with the cost model of
    qopt-assign-precision (lib/Quant/MixedPrecision.cpp: MACs at the
    target's relative throughput plus bytes moved at its machine balance),
    summed over the ops of the int8 program and over the same ops in f32.
    When the ratio is above `warn-threshold` it emits a warning at the
    module naming the ops that cost most. docs/perf-report.md gives the
    model, each category and its fixes, and how the estimate compares
    with measured times (it is a ranking, not a prediction). The IR is not
    changed. Write intermediate files with `--mlir-print-debuginfo`: the
    names are in the locations.

    ```text
    // The fallback model of test/Conversion/LinalgToCPU/report-perf.mlir
    estimate: int8/f32 = 0.814 (int8 128832, f32 158208); threshold 0.7: WARNING
    MACs: 20480 total, 4096 in float ops (20.0%)
    float ops (fallbacks): 1
      softmax   linalg.generic x4  macs 4096 (20.0%), cost 66048 (51.3% of int8): ...
    warning: qopt-report-perf: int8 is estimated at 0.81 of f32 time (above
      0.70: int8 less than 1.43x faster); costliest: 'softmax' (float, ...)
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", "\"x86_64\"",
           "Cost table and CPU lowering to predict: x86_64 or aarch64">,
    Option<"output", "output", "std::string", "\"-\"",
           "Where the report goes: a file, or '-' for standard error">,
    Option<"format", "format", "std::string", "\"text\"",
           "Report format: text or json">,
    Option<"warnThreshold", "warn-threshold", "double", "0.7",
           "Warn when estimated int8 time / f32 time is above this (> 0)">,
    Option<"top", "top", "unsigned", "3",
           "How many of the costliest ops the warning and report name">,
  ];
}

#endif // QOPT_CONVERSION_PASSES_TD
