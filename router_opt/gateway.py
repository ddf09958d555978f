"""How LiteLLM names a model: `<provider prefix>/<model>`, the `model` of a `litellm.Router` entry.

One function, `litellm_model_name(provider, model_id, deployment)`, used by the price importers
(genai-prices, LiteLLM's price map) and by the engine's default `gateway_model`. It accepts a catalog's
provider name (`Google`, `Mistral AI`, `Self-hosted`), a genai-prices provider id (`x-ai`, `aws`,
`huggingface_together`) or a LiteLLM price map's `litellm_provider` value (`vertex_ai-language-models`,
`bedrock_converse`), and returns a name that LiteLLM itself resolves (`litellm.get_llm_provider`):

- self-hosted (`deployment="self-hosted"` or provider `Self-hosted`): `openai/<id>`, LiteLLM's route to
  an OpenAI-compatible server (vLLM, TGI), reached with the deployment's `api_base`;
- Google: `gemini/<id>` (AI Studio) for Google's own models, `vertex_ai/<id>` for the third-party
  models only Vertex AI serves (Claude, Llama, Mistral, ...: AI Studio serves no Claude);
- the price map's pseudo-providers become the provider LiteLLM routes to: every `vertex_ai-*-models`
  -> `vertex_ai`, `bedrock_converse` -> `bedrock/converse` (LiteLLM's Converse route on Bedrock);
- a provider LiteLLM knows under another name is renamed (`aws` -> `bedrock`, `x-ai` -> `xai`,
  `together` -> `together_ai`, `moonshotai` -> `moonshot`, ...);
- a model id that already starts with its provider's LiteLLM prefix (`gemini/gemini-2.5-flash`,
  `vertex_ai/claude-3-5-haiku@20241022`) is kept as it is;
- a provider LiteLLM does not serve (`anyscale`, whose endpoints LiteLLM dropped, or any name not in
  `LITELLM_PROVIDERS`): `openai/<id>`, i.e. an OpenAI-compatible endpoint. Such an entry works only
  once it is given the host's `api_base` (and key); `litellm_provider()` returns None for it, which
  the importers record in the model's `sources`.

`LITELLM_PROVIDERS` is a copy of LiteLLM 1.110's `litellm.provider_list` plus the OpenAI-compatible
providers of its `llms/openai_like/providers.json` (LiteLLM is not a dependency of router-opt); the
tests check every name against the installed LiteLLM.
"""

from __future__ import annotations

import re

SELF_HOSTED_PREFIX = "openai"
"""LiteLLM's route to any OpenAI-compatible server; also the fallback for providers LiteLLM lacks."""

# fmt: off
LITELLM_PROVIDERS = frozenset({
    "a2a", "a2a_agent", "abliteration", "ai21", "ai21_chat", "aiand", "aiml", "aiohttp_openai", "amazon_nova",
    "anthropic", "anthropic_text", "apertis", "assemblyai", "auto_router", "aws_polly", "aws_textract", "azure",
    "azure_ai", "azure_speech", "azure_text", "baseten", "bedrock", "bedrock_mantle", "bespoke", "bigmodel",
    "black_forest_labs", "bytez", "cerebras", "charity_engine", "chatgpt", "chutes", "clarifai", "clf_ai_gateway",
    "cloudflare", "codestral", "cognition", "cohere", "cohere_chat", "cometapi", "compactifai", "coralbricks",
    "cortecs", "cursor", "custom", "custom_openai", "darkbloom", "dashscope", "databricks", "databricks_agent",
    "datarobot", "deepgram", "deepinfra", "deepseek", "docker_model_runner", "dotprompt", "edenai", "elevenlabs",
    "empiriolabs", "empower", "eu_jev", "fal_ai", "featherless_ai", "fireworks_ai", "friendliai", "galadriel", "gdc",
    "gemini", "gigachat", "github", "github_copilot", "gradient_ai", "groq", "helicone", "heroku", "hosted_vllm",
    "hostinger_router", "huggingface", "humanloop", "hyperbolic", "inception", "inferenceapis", "infinity",
    "jina_ai", "kyma", "lambda_ai", "langflow", "langfuse", "langgraph", "laya", "lemonade", "libertai",
    "litellm_agent", "litellm_proxy", "llamafile", "lm_studio", "manus", "maritalk", "meta", "meta_llama",
    "microsoft_365_copilot", "milvus", "minimax", "mistral", "modelscope", "mongodb", "moonshot", "morph", "nace",
    "nadir", "nano-gpt", "nebius", "neosantara", "nlp_cloud", "novita", "nscale", "nvidia_nim", "nvidia_riva",
    "oci", "ollama", "ollama_chat", "oobabooga", "openai", "openai_like", "opencode_go", "openinfer", "openrouter",
    "opensearch", "ovhcloud", "parallel_ai", "parasail", "perplexity", "petals", "pg_vector", "pinstripes", "poe",
    "predibase", "prism", "publicai", "qwen_ai_platform", "qwencloud", "ragflow", "recraft", "reducto",
    "refuseless", "reka", "replicate", "runwayml", "s3_vectors", "sagemaker", "sagemaker_chat", "sagemaker_nova",
    "sail", "sambanova", "sap", "scaledown", "scaleway", "scx-ai", "snowflake", "soniox", "stability",
    "strands_decider", "streamlake", "synthetic", "tencent", "tensormesh", "text-completion-codestral",
    "text-completion-inception", "text-completion-openai", "together_ai", "topaz", "transcribe", "triton",
    "typesafe", "v0", "valkey", "vercel_ai_gateway", "vertex_ai", "vertex_ai_beta", "vllm", "volcengine", "voyage",
    "wally", "wandb", "watsonx", "watsonx_text", "xai", "xiaomi_mimo", "xinference", "zai", "zerogpu",
    # OpenAI-compatible providers LiteLLM configures in llms/openai_like/providers.json
    "aihubmix", "crusoe", "gmi", "llamagate", "sarvam", "veniceai",
})
# fmt: on

# Provider names (catalog display names, genai-prices ids, price-map keys) -> LiteLLM prefix, where the
# prefix is not simply the name itself. Keys are lower case with spaces, dots and dashes as written.
_RENAMED = {
    "google": "gemini",
    "google ai studio": "gemini",
    "google vertex ai": "vertex_ai",
    "vertex ai": "vertex_ai",
    "vertex": "vertex_ai",
    "amazon": "bedrock",
    "aws": "bedrock",
    "aws bedrock": "bedrock",
    "amazon bedrock": "bedrock",
    "bedrock_converse": "bedrock/converse",
    "microsoft": "azure",
    "microsoft azure": "azure",
    "azure ai": "azure_ai",
    "mistral ai": "mistral",
    "mistralai": "mistral",
    "x.ai": "xai",
    "x-ai": "xai",
    "together": "together_ai",
    "together ai": "together_ai",
    "together.ai": "together_ai",
    "fireworks": "fireworks_ai",
    "fireworks ai": "fireworks_ai",
    "fireworks.ai": "fireworks_ai",
    "moonshotai": "moonshot",
    "moonshot ai": "moonshot",
    "z.ai": "zai",
    "github-copilot": "github_copilot",
    "github copilot": "github_copilot",
    "hugging face": "huggingface",
    "lambda": "lambda_ai",
    "nvidia": "nvidia_nim",
    "ibm watsonx": "watsonx",
    "alibaba": "dashscope",
    "qwen": "dashscope",
}
_SELF_HOSTED = {"self-hosted", "self hosted", "selfhosted"}
_VERTEX_FAMILY = re.compile(r"^vertex_ai[-_].*models$")
"""The price map's `vertex_ai-language-models`, `vertex_ai-anthropic_models`, ...: all Vertex AI."""
_HUGGINGFACE = re.compile(r"^huggingface_(.+)$")
"""genai-prices' `huggingface_<inference provider>`: LiteLLM's `huggingface/<inference provider>/<model>`."""
_NOT_ON_AI_STUDIO = re.compile(
    r"^(claude|llama|meta|mistral|codestral|jamba|ai21|deepseek|qwen|glm|kimi|minimax|gpt-oss|openai)", re.IGNORECASE
)
"""Third-party model families Google sells through Vertex AI only (AI Studio, `gemini/`, serves Google's
own Gemini and Gemma models)."""


def _normal(provider: str) -> str:
    return " ".join(provider.strip().lower().split())


def litellm_provider(provider: str, model_id: str = "") -> str | None:
    """The LiteLLM prefix for `provider` (and, for Google and Meta, the model), or None when LiteLLM has
    no such provider. The prefix may have two parts (`bedrock/converse`, `huggingface/together`)."""
    name = _normal(provider)
    bare = model_id.strip()
    if name in _SELF_HOSTED:
        return SELF_HOSTED_PREFIX
    if name in {"google", "google ai studio"} or name == "gemini":
        return "vertex_ai" if _NOT_ON_AI_STUDIO.match(bare) else "gemini"
    if name == "meta":
        # Meta's Llama API is `meta_llama/`; its own Muse models are LiteLLM's `meta/`.
        return "meta_llama" if "llama" in bare.lower() else "meta"
    if _VERTEX_FAMILY.match(name):
        return "vertex_ai"
    hugging = _HUGGINGFACE.match(name)
    if hugging:
        return f"huggingface/{hugging.group(1)}"
    if name in _RENAMED:
        return _RENAMED[name]
    for candidate in (name, name.replace(" ", "_"), name.replace(" ", "-"), name.replace("-", "_")):
        if candidate in LITELLM_PROVIDERS:
            return candidate
    return None


def litellm_model_name(provider: str, model_id: str, deployment: str | None = None) -> str:
    """The LiteLLM `model` for `model_id` served by `provider` (see the module docstring).

    A drop-in for the engine's default: `litellm_model_name(m.provider, m.id, m.deployment)`.
    """
    model_id = model_id.strip()
    if deployment == "self-hosted":
        return f"{SELF_HOSTED_PREFIX}/{model_id}"
    raw = _normal(provider)
    bare = _strip_own_prefix(model_id, raw)
    prefix = litellm_provider(provider, bare)
    first = model_id.split("/", 1)[0].lower() if "/" in model_id else ""
    if prefix is None:
        if not raw and first in LITELLM_PROVIDERS:
            return model_id  # no provider given, but the id carries LiteLLM's own prefix
        return f"{SELF_HOSTED_PREFIX}/{bare}"
    if raw in _SELF_HOSTED:
        return f"{prefix}/{model_id}"
    if first and first == prefix.split("/", 1)[0]:
        # already LiteLLM's own spelling (`gemini/gemini-2.5-flash`, `vertex_ai/claude-3-5-haiku@20241022`,
        # `bedrock/us-west-2/...`); a two-part prefix (`bedrock/converse`) is not added to a name that
        # already routes through its provider
        return model_id
    return f"{prefix}/{bare}"


def _strip_own_prefix(model_id: str, provider: str) -> str:
    """`model_id` without a leading `<provider>/` spelled as the source's provider key
    (`anyscale/meta-llama/...` -> `meta-llama/...`, `vertex_ai-language-models/x` -> `x`)."""
    head, sep, rest = model_id.partition("/")
    if sep and head.lower() == provider:
        return rest
    return model_id


# --- one provider vocabulary for every price source -------------------------------------------------

_HOSTS = {
    "google": (
        "google",
        "gemini",
        "vertex_ai",
        "vertex_ai_beta",
        "vertex",
        "vertex ai",
        "google vertex ai",
        "google ai studio",
    ),
    "aws": (
        "aws",
        "amazon",
        "bedrock",
        "bedrock_converse",
        "bedrock_mantle",
        "amazon_nova",
        "aws bedrock",
        "amazon bedrock",
    ),
    "azure": ("azure", "azure_ai", "azure_text", "azure ai", "microsoft", "microsoft azure"),
    "openai": ("openai", "text-completion-openai"),
    "anthropic": ("anthropic", "anthropic_text"),
    "mistral": ("mistral", "mistral ai", "mistralai", "codestral", "text-completion-codestral"),
    "x-ai": ("x-ai", "xai", "x.ai"),
    "together": ("together", "together_ai", "together ai", "together.ai"),
    "fireworks": ("fireworks", "fireworks_ai", "fireworks ai", "fireworks.ai"),
    "cohere": ("cohere", "cohere_chat"),
    "moonshotai": ("moonshotai", "moonshot", "moonshot ai"),
    "meta": ("meta", "meta_llama"),
    "ai21": ("ai21", "ai21_chat"),
    "zai": ("zai", "z.ai"),
    "github-copilot": ("github-copilot", "github_copilot", "github copilot"),
    "huggingface": ("huggingface", "hugging face"),
    "self-hosted": ("self-hosted", "self hosted", "selfhosted"),
}
_HOST_OF = {alias: host for host, aliases in _HOSTS.items() for alias in aliases}


def provider_host(provider: str) -> str:
    """Who serves the model, in one vocabulary for genai-prices provider ids, LiteLLM's `litellm_provider`
    values and catalog provider names: genai-prices' ids where it has the provider (`google` for
    `gemini`, `vertex_ai` and every `vertex_ai-*-models`; `aws` for `bedrock` and `bedrock_converse`;
    `x-ai` for `xai`; `together` for `together_ai`; `huggingface` for genai-prices' `huggingface_*`),
    else the name in lower case. `--providers` and `catalog check`'s like-with-like join use it."""
    name = _normal(provider)
    if name in _HOST_OF:
        return _HOST_OF[name]
    if _VERTEX_FAMILY.match(name) or name.startswith("vertex_ai"):
        return "google"
    if name.startswith("huggingface"):
        return "huggingface"
    if name.startswith("fireworks_ai"):
        return "fireworks"
    return name
