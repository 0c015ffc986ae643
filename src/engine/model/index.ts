/**
 * The llama-family model of the training engine. A training step, llm.c style:
 *   const model = loadModel(path);                        // Q8_0 base (trainable: true for full mode)
 *   const lora = createLora(model.config, { rank, alpha, dropout, targets });
 *   const acts = createActivations(model.config, B, T, lora);
 *   const g = createGradActivations(model.config, B, T, lora);
 *   zeroLoraGrads(lora);
 *   forward(model, acts, tokens, { lora, training: true, dropoutSeed: step, threads });
 *   const { loss } = crossEntropyLoss(acts, model.config.vocab, maskedTargets(tokens, mask, B, T), { dlogits: g.dlogits });
 *   backward(model, acts, g, { lora, threads });             // lora.grads now holds dloss/dA, dloss/dB
 */
export { modelConfig, tensorManifest, projectionShape, PROJECTIONS, PROJECTION_STEM } from './config.js';
export type { ModelConfig, Projection, ManifestEntry } from './config.js';
export { loadModel, createModelGrads, embeddingRow } from './weights.js';
export type { EngineModel, LoadOptions, ModelWeights, LayerWeights, Matrix, F32Tensor, Q8Tensor, ModelGrads } from './weights.js';
export { createLora, zeroLoraGrads, loraScale, dropoutKeeps, projectForward, projectBackward, LORA_TARGETS } from './lora.js';
export type { LoraAdapter, LoraModule, LoraOptions, LoraTarget, ProjectionContext } from './lora.js';
export { forward, createActivations, activationSizes, blockForward, headForward, projectionContext, attentionScale } from './forward.js';
export type { Activations, LayerActs, ForwardOptions } from './forward.js';
export { backward, createGradActivations, gradActivationSizes, blockBackward, headBackward } from './backward.js';
export type { GradActivations, BackwardOptions } from './backward.js';
export { crossEntropyLoss, maskedTargets, IGNORE } from './loss.js';
export type { LossResult, LossOptions } from './loss.js';
