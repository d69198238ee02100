//===- ort_jobs_opt.js - ONNX Runtime runs at a chosen optimization level -===//
//
// ort_jobs.js with the graph optimization level as a job field: the same
// dynamic-quantization graph is run with ORT's fusions off ("disabled") and
// on ("all", the default of scripts/ort-run.js), so a test can see whether
// ORT's fused kernel (MatMulIntegerToFloat, DynamicQuantizeMatMul) computes
// the same bits as the unfused graph.
//
//   node ort_jobs_opt.js JOBS.json
//
// JOBS.json is a list of {"model": M, "inputs": [IN.npy...], "out": DIR,
// "opt": "disabled"|"basic"|"extended"|"all"}.
//
//===----------------------------------------------------------------------===//
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const {readNpy, writeNpy} = require(path.join(__dirname, '..', '..', '..',
                                              '..', 'scripts', 'ort-run.js'));

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const sessions = new Map();
  for (const job of jobs) {
    const opt = job.opt || 'all';
    const key = job.model + '\u0000' + opt;
    if (!sessions.has(key))
      sessions.set(key, await ort.InferenceSession.create(job.model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: opt,
      }));
    const session = sessions.get(key);
    const feeds = {};
    session.inputNames.forEach((n, i) => { feeds[n] = readNpy(job.inputs[i]); });
    const results = await session.run(feeds);
    fs.mkdirSync(job.out, {recursive: true});
    session.outputNames.forEach((n, k) => {
      writeNpy(path.join(job.out, 'output_' + k + '.npy'), results[n]);
    });
  }
}

main().catch((e) => {
  console.error('ort_jobs_opt.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
