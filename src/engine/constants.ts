import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Hex } from "./types.js";

/** Name of the determinism profile this engine implements. */
export const PROFILE_NAME = "dense-int8-v1";

/** The string whose keccak256 is the engine id. */
export const ENGINE_ID_PREIMAGE = "verity.dense-int8.v1";

/** `keccak256("verity.dense-int8.v1")`: the engine id committed in every model id (`DenseInt8.ENGINE_ID`). */
export const ENGINE_ID: Hex = `0x${bytesToHex(keccak_256(new TextEncoder().encode(ENGINE_ID_PREIMAGE)))}`;

/** Largest `inDim` / `outDim` of a layer. */
export const MAX_DIM = 65_536;

/** Largest layer `multiplier` (`2^31 - 1`); the smallest is 1. */
export const MAX_MULTIPLIER = 2 ** 31 - 1;

/** Largest layer `shift`. */
export const MAX_SHIFT = 62;

/** Smallest int32 (bias lower bound). */
export const INT32_MIN = -(2 ** 31);

/** Largest int32 (bias upper bound). */
export const INT32_MAX = 2 ** 31 - 1;

/** Value of the `format` field of a model file. */
export const MODEL_FORMAT = "verity.dense-int8.model";

/** Value of the `version` field of a model file this engine reads and writes. */
export const MODEL_FORMAT_VERSION = 1;
