//===- ort-jobs.js - many ONNX Runtime runs in one node process -----------===//
//
// Starting node and onnxruntime-node costs about a second; the QDQ export
// test and benchmarks/models need dozens of runs. This runs a list of jobs
// in one process, one session per model, with ort-run.js's .npy reader and
// writer (scripts/onnx_prepare.py's run_ort_jobs calls it):
//
//   node ort-jobs.js JOBS.json
//
// JOBS.json is a list of {"model": M, "inputs": [IN.npy, ...], "out": DIR};
// each job writes DIR/output_K.npy in the order of the graph outputs.
//
//===----------------------------------------------------------------------===//
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const {readNpy, writeNpy} = require(path.join(__dirname, 'ort-run.js'));

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const sessions = new Map();
  for (const job of jobs) {
    if (!sessions.has(job.model))
      sessions.set(job.model, await ort.InferenceSession.create(job.model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      }));
    const session = sessions.get(job.model);
    if (job.inputs.length !== session.inputNames.length)
      throw new Error(job.model + ' has ' + session.inputNames.length +
                      ' inputs, got ' + job.inputs.length + ' .npy files');
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
  console.error('ort-jobs.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
