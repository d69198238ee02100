// Calibrators choose the range that the scale and zero point come from.

// RUN: qopt %s -split-input-file --qopt-legalize="calibrator=minmax" | FileCheck %s --check-prefix=MINMAX
// RUN: qopt %s -split-input-file --qopt-legalize="calibrator=percentile percentile=99" | FileCheck %s --check-prefix=PCT
// RUN: qopt %s -split-input-file --qopt-legalize="calibrator=entropy" | FileCheck %s --check-prefix=ENTROPY
// RUN: qopt %s -split-input-file --qopt-legalize="calibrator=mse" | FileCheck %s --check-prefix=MSE
// RUN: qopt %s -split-input-file --qopt-legalize="calibrator=percentile percentile=99 activations=symmetric" | FileCheck %s --check-prefix=PCT-SYM

// 10^7 + 1 values over [0, 10] in 10 bins: 9999999 in [0, 1), one outlier
// in [9, 10]. Values are taken as spread uniformly inside a bin.
// minmax keeps the outlier: [0, 10] -> scale 10/255 (float32
// 0.039215687662363052), zero point -128.
// percentile=99: the 99th percentile is 0.99 * 10^7 values in, inside bin 0
// at 0.99 * 10^7 / 9999999 = 0.9900000990; the lower end 9.9e-8 widens to 0
// -> scale 0.9900000990/255 (float32 0.0038823534268885851), zero point -128.
// Symmetric percentile folds |x|: t is the same 0.9900000990 -> scale t/127
// (float32 0.007795276585966349), zero point 0.
// mse: clipping at t < 1 costs the squared clipping error of ~10^7 values,
// clipping the single outlier at 1.0 costs 8.5^2 for one value against the
// quantization noise step^2/12 of 10^7 values (step 10/255: 1.3e-4 each), so
// the best threshold is the end of the dense bin, 1.0 -> scale 1/255 (float32
// 0.0039215688593685627).
// entropy (TensorRT's KL search on 2048 bins of |x|, width 10/2048) also
// clips the outlier and stops within a few fine bins above 1.0: scale
// 0.0039xxx.
// MINMAX-LABEL: func @outlier
// MINMAX: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.03921568766236{{[0-9]*}}:-128>>
// PCT-LABEL: func @outlier
// PCT: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.003882353426888{{[0-9]*}}:-128>>
// PCT-SYM-LABEL: func @outlier
// PCT-SYM: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.007795276585966{{[0-9]*}}>>
// MSE-LABEL: func @outlier
// MSE: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.0039215688593685{{[0-9]*}}:-128>>
// ENTROPY-LABEL: func @outlier
// ENTROPY: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.0039{{[0-9]*}}:-128>>
func.func @outlier(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [0.0] max [10.0] histogram [0.0, 10.0] counts [9999999, 0, 0, 0, 0, 0, 0, 0, 0, 1] : tensor<1x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A uniform histogram over [-1, 1] in 256 bins: nothing stands out, so
// minmax, entropy and mse keep the full range within a bin (width 2/256):
// scale in [(2 - 2/256)/255, 2/255] = [0.00781, 0.00785); minmax exactly
// 2/255 (float32 0.0078431377187371254) with zero point -1 (-128 + 127.5 =
// -0.5, rounded half away from zero).
// percentile=99 cuts 1% at each end of the uniform mass: [-0.98, 0.98] ->
// scale 1.96/255 (float32 0.007686274591833353), zero point -1 (again -0.5).
// MINMAX-LABEL: func @uniform
// MINMAX: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.0078431377187371{{[0-9]*}}:-1>>
// PCT-LABEL: func @uniform
// PCT: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.0076862745918333{{[0-9]*}}:-1>>
// ENTROPY-LABEL: func @uniform
// ENTROPY: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.0078{{[1-4][0-9]*}}:{{-1|0}}>>
// MSE-LABEL: func @uniform
// MSE: quant.qcast {{.*}}!quant.uniform<i8:f32, 0.0078{{[1-4][0-9]*}}:{{-1|0}}>>
func.func @uniform(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [1.0] histogram [-1.0, 1.0] counts [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10] : tensor<1x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
