"""A tiny llama-architecture GGUF model with seeded random weights, for a real llama.cpp server.

The vocabulary is SentencePiece-style (`tokenizer.ggml.model = "llama"`): `<unk>`, `<s>`, `</s>`,
the 256 byte tokens `<0x00>`..`<0xFF>`, sixty-two words as pieces ("\u2581hello") with all their
prefixes, and some punctuation. Greedy decoding only ever picks a whole word or a punctuation mark:
the output rows of every other token are zero, so their logits are exactly 0 while the best word's
is positive. The model therefore never ends its answer by itself (always send max_tokens) and never
emits a partial UTF-8 sequence.

All tensors are float32; the file is about 540 kB. The same seed writes the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

EMBEDDING = 64
BLOCKS = 2
HEADS = 4
FEED_FORWARD = 128
CONTEXT = 512
SEED = 20240601

SPECIALS = ("<unk>", "<s>", "</s>")
UNK, BOS, EOS = 0, 1, 2
COMMON_WORDS = (
    "hello world the a an and of to in is it you that was for on are with as I his they be at "
    "one have this from or had by not word but what some we can out other were all there when "
    "up use your how said each she which do their time if will way about many then them"
)
WORDS = tuple(COMMON_WORDS.split())
# What the model says: whole words and punctuation.
SPOKEN = (*(f"\u2581{word}" for word in WORDS), ".", ",", "!", "?", "s", "ing")
# What the tokenizer needs to reach a whole word: SentencePiece merges two adjacent pieces only
# into a piece of the vocabulary, so every prefix of "\u2581word" is a piece too.
PREFIXES = tuple(
    dict.fromkeys(
        piece[:end]
        for piece in SPOKEN
        if piece.startswith("\u2581")
        for end in range(1, len(piece))
        if piece[:end] not in SPOKEN
    )
)
PIECES = (*SPOKEN, *PREFIXES)
# The Mistral / llama-2 [INST] template; llama-cpp-python renders it with bos_token and eos_token.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
    "{% else %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}"
)


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types in id order."""
    tokens = [*SPECIALS, *(f"<0x{byte:02X}>" for byte in range(256)), *PIECES]
    types = [
        gguf.TokenType.UNKNOWN,
        gguf.TokenType.CONTROL,
        gguf.TokenType.CONTROL,
        *[gguf.TokenType.BYTE] * 256,
        *[gguf.TokenType.NORMAL] * len(PIECES),
    ]
    # SentencePiece scores: higher merges first; longer pieces score higher.
    scores = [0.0] * (len(SPECIALS) + 256) + [float(len(piece)) for piece in PIECES]
    return tokens, scores, [int(kind) for kind in types]


def write_model(path: Path, seed: int = SEED) -> Path:
    """Write the model to `path` and return it."""
    tokens, scores, types = vocabulary()
    vocab = len(tokens)
    head_dim = EMBEDDING // HEADS
    rng = np.random.default_rng(seed)

    def matrix(rows: int, columns: int) -> np.ndarray:
        # gguf numpy shapes are ggml's ne reversed: ne = [columns, rows] -> shape (rows, columns).
        return (rng.standard_normal((rows, columns)) / np.sqrt(columns)).astype(np.float32)

    def ones() -> np.ndarray:
        return np.ones(EMBEDDING, dtype=np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-random-llama")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(EMBEDDING)
    writer.add_block_count(BLOCKS)
    writer.add_feed_forward_length(FEED_FORWARD)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(UNK)
    writer.add_bos_token_id(BOS)
    writer.add_eos_token_id(EOS)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    writer.add_tensor("token_embd.weight", matrix(vocab, EMBEDDING))
    for block in range(BLOCKS):
        prefix = f"blk.{block}"
        writer.add_tensor(f"{prefix}.attn_norm.weight", ones())
        writer.add_tensor(f"{prefix}.attn_q.weight", matrix(EMBEDDING, EMBEDDING))
        writer.add_tensor(f"{prefix}.attn_k.weight", matrix(HEADS * head_dim, EMBEDDING))
        writer.add_tensor(f"{prefix}.attn_v.weight", matrix(HEADS * head_dim, EMBEDDING))
        writer.add_tensor(f"{prefix}.attn_output.weight", matrix(EMBEDDING, EMBEDDING))
        writer.add_tensor(f"{prefix}.ffn_norm.weight", ones())
        writer.add_tensor(f"{prefix}.ffn_gate.weight", matrix(FEED_FORWARD, EMBEDDING))
        writer.add_tensor(f"{prefix}.ffn_up.weight", matrix(FEED_FORWARD, EMBEDDING))
        writer.add_tensor(f"{prefix}.ffn_down.weight", matrix(EMBEDDING, FEED_FORWARD))
    writer.add_tensor("output_norm.weight", ones())
    output = matrix(vocab, EMBEDDING) * 4  # logits of a few units: clear winners under greedy
    output[len(SPECIALS) + 256 + len(SPOKEN) :] = 0  # never pick a prefix,
    output[: len(SPECIALS) + 256] = 0  # a special token or a byte
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":
    import sys

    print(write_model(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny.gguf")))
