//===- ort-bench.js - time one ONNX model in ONNX Runtime, two ways -------===//
//
// The ONNX Runtime side of benchmarks/weight-only/bench.py. Loads MODEL with
// onnxruntime-node (CPU execution provider, one intra-op and one inter-op
// thread), feeds it the .npy inputs and times it twice:
//
//  - `run`: the median wall time of `await session.run(feeds)` over
//    --repeat calls, as scripts/ort-run.js measures it. This includes the
//    JavaScript binding's per-call work (tensor wrapping, output
//    allocation, the promise) on top of ONNX Runtime's own run.
//  - `kernel`: a second session with ONNX Runtime's profiler on; for each
//    of the --repeat runs the sum of the `*_kernel_time` events of the
//    graph's nodes (ONNX Runtime's own clock around each kernel,
//    microsecond resolution), median over the runs. This excludes the
//    binding and the session's per-run bookkeeping.
//
// One warm-up call precedes each series. Writes OUTDIR/output_K.npy from
// the first session and prints one line:
//
//   ort-bench: run median X ms, kernel median Y ms, model_run median Z ms over N runs
//
//   node ort-bench.js [--repeat N] MODEL.onnx OUTDIR IN0.npy [IN1.npy ...]
//
//===----------------------------------------------------------------------===//
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const {readNpy, writeNpy} =
    require(path.join(__dirname, '..', '..', 'scripts', 'ort-run.js'));

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

async function main() {
  const args = process.argv.slice(2);
  let repeat = 10;
  if (args[0] === '--repeat') {
    repeat = Math.max(1, Number(args[1]));
    args.splice(0, 2);
  }
  if (args.length < 3) {
    console.error('usage: node ort-bench.js [--repeat N] MODEL OUTDIR IN.npy...');
    process.exit(2);
  }
  const [model, outDir, ...inputs] = args.map((a) => path.resolve(a));
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  };
  const session = await ort.InferenceSession.create(model, options);
  if (inputs.length !== session.inputNames.length)
    throw new Error('the model has ' + session.inputNames.length +
                    ' inputs, got ' + inputs.length + ' .npy files');
  const feeds = {};
  session.inputNames.forEach((n, i) => { feeds[n] = readNpy(inputs[i]); });

  let results = await session.run(feeds);
  const runs = [];
  for (let k = 0; k < repeat; ++k) {
    const t0 = process.hrtime.bigint();
    results = await session.run(feeds);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  fs.mkdirSync(outDir, {recursive: true});
  session.outputNames.forEach((n, k) => {
    writeNpy(path.join(outDir, 'output_' + k + '.npy'), results[n]);
  });

  // The profiler writes PREFIX_<date>.json into the current directory.
  const profDir = fs.mkdtempSync(path.join(outDir, 'profile-'));
  process.chdir(profDir);
  const profiled = await ort.InferenceSession.create(
      model, Object.assign({enableProfiling: true, profileFilePrefix: 'ort'},
                           options));
  for (let k = 0; k <= repeat; ++k)
    await profiled.run(feeds);
  profiled.endProfiling();
  const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1)
    throw new Error('expected one profile in ' + profDir + ', found ' +
                    files.length);
  const events = JSON.parse(fs.readFileSync(path.join(profDir, files[0])));
  // Events come in execution order: the nodes' kernel times of one run,
  // then that run's model_run event.
  const kernels = [], modelRuns = [];
  let sum = 0;
  for (const e of events) {
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
      sum += e.dur;
    } else if (e.cat === 'Session' && e.name === 'model_run') {
      kernels.push(sum / 1e3);
      modelRuns.push(e.dur / 1e3);
      sum = 0;
    }
  }
  if (kernels.length !== repeat + 1)
    throw new Error('profile ' + files[0] + ' has ' + kernels.length +
                    ' model_run events, expected ' + (repeat + 1));
  // Drop the warm-up run.
  kernels.shift();
  modelRuns.shift();
  console.log('ort-bench: onnxruntime ' + ort.env.versions.common +
              ': run median ' + median(runs).toFixed(4) + ' ms, kernel median ' +
              median(kernels).toFixed(4) + ' ms, model_run median ' +
              median(modelRuns).toFixed(4) + ' ms over ' + repeat + ' runs');
}

main().catch((e) => {
  console.error('ort-bench.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
