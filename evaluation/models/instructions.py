"""The authors' per-task instructions for multilingual-e5-large-instruct, keyed by mteb task name.

Source: microsoft/unilm e5/utils.py `get_task_def_by_task_name_and_type`
(https://github.com/microsoft/unilm/blob/master/e5/utils.py; the commit the multilingual-e5-large-instruct model
card links, 9c0f1ff, and HEAD agree for these tasks). The authors decide by task type
first (STS, Summarization, BitextMining share one instruction each), then by task name.

Where mteb 2.x resolves a different instruction for the same task (its `TaskMetadata.prompt`, else the
abstask default), the paper protocol uses the authors' string and the mteb protocol uses mteb's:
  - Summarization (SummEval): mteb "...similar summaries." has a trailing "."; the authors' has none.
  - CQADupstack*Retrieval: mteb's subforum tasks have no prompt, so mteb falls back to
    "Retrieve text based on user query."; the authors use the Stackexchange-duplicates instruction.
  - MrTidyRetrieval: mteb has no prompt ("Retrieve text based on user query."); the authors' table has
    none either, see MrTidyRetrieval below.
tests/models/test_instructions.py pins exactly this set of differences.
"""

from __future__ import annotations

from evaluation.errors import ConfigError

# Decided by task type alone (utils.py checks these types before any task name).
TASK_TYPE_INSTRUCTIONS: dict[str, str] = {
    "STS": "Retrieve semantically similar text.",
    "Summarization": "Given a news summary, retrieve other semantically similar summaries",
    "BitextMining": "Retrieve parallel sentences.",  # BUCC, Tatoeba
}

# utils.py matches `task_name.lower().startswith('cqadupstack')`: the 12 subforum tasks and the aggregate.
CQADUPSTACK_PREFIX = "cqadupstack"
CQADUPSTACK_INSTRUCTION = (
    "Given a question, retrieve detailed question descriptions from Stackexchange that are duplicates to the "
    "given question"
)

_WIKI_QA = "Given a question, retrieve Wikipedia passages that answer the question"

TASK_INSTRUCTIONS: dict[str, str] = {
    # Classification
    "AmazonCounterfactualClassification": "Classify a given Amazon customer review text as either "
    "counterfactual or not-counterfactual",
    "AmazonPolarityClassification": "Classify Amazon reviews into positive or negative sentiment",
    "AmazonReviewsClassification": "Classify the given Amazon review into its appropriate rating category",
    "Banking77Classification": "Given a online banking query, find the corresponding intents",
    "EmotionClassification": "Classify the emotion expressed in the given Twitter message into one of the six "
    "emotions: anger, fear, joy, love, sadness, and surprise",
    "ImdbClassification": "Classify the sentiment expressed in the given movie review text from the IMDB dataset",
    "MassiveIntentClassification": "Given a user utterance as query, find the user intents",
    "MassiveScenarioClassification": "Given a user utterance as query, find the user scenarios",
    "MTOPDomainClassification": "Classify the intent domain of the given utterance in task-oriented conversation",
    "MTOPIntentClassification": "Classify the intent of the given utterance in task-oriented conversation",
    "ToxicConversationsClassification": "Classify the given comments as either toxic or not toxic",
    "TweetSentimentExtractionClassification": "Classify the sentiment of a given tweet as either positive, "
    "negative, or neutral",
    # Clustering
    "ArxivClusteringP2P": "Identify the main and secondary category of Arxiv papers based on the titles and abstracts",
    "ArxivClusteringS2S": "Identify the main and secondary category of Arxiv papers based on the titles",
    "BiorxivClusteringP2P": "Identify the main category of Biorxiv papers based on the titles and abstracts",
    "BiorxivClusteringS2S": "Identify the main category of Biorxiv papers based on the titles",
    "MedrxivClusteringP2P": "Identify the main category of Medrxiv papers based on the titles and abstracts",
    "MedrxivClusteringS2S": "Identify the main category of Medrxiv papers based on the titles",
    "RedditClustering": "Identify the topic or theme of Reddit posts based on the titles",
    "RedditClusteringP2P": "Identify the topic or theme of Reddit posts based on the titles and posts",
    "StackExchangeClustering": "Identify the topic or theme of StackExchange posts based on the titles",
    "StackExchangeClusteringP2P": "Identify the topic or theme of StackExchange posts based on the given paragraphs",
    "TwentyNewsgroupsClustering": "Identify the topic or theme of the given news articles",
    # Reranking
    "AskUbuntuDupQuestions": "Retrieve duplicate questions from AskUbuntu forum",
    "MindSmallReranking": "Retrieve relevant news articles based on user browsing history",
    "SciDocsRR": "Given a title of a scientific paper, retrieve the titles of other relevant papers",
    "StackOverflowDupQuestions": "Retrieve duplicate questions from StackOverflow forum",
    # PairClassification
    "SprintDuplicateQuestions": "Retrieve duplicate questions from Sprint forum",
    "TwitterSemEval2015": "Retrieve tweets that are semantically similar to the given tweet",
    "TwitterURLCorpus": "Retrieve tweets that are semantically similar to the given tweet",
    # Retrieval (CQADupstack* by prefix, above)
    "ArguAna": "Given a claim, find documents that refute the claim",
    "ClimateFEVER": "Given a claim about climate change, retrieve documents that support or refute the claim",
    "DBPedia": "Given a query, retrieve relevant entity descriptions from DBPedia",
    "FEVER": "Given a claim, retrieve documents that support or refute the claim",
    "FiQA2018": "Given a financial question, retrieve user replies that best answer the question",
    "HotpotQA": "Given a multi-hop question, retrieve documents that can help answer the question",
    "MSMARCO": "Given a web search query, retrieve relevant passages that answer the query",
    "NFCorpus": "Given a question, retrieve relevant documents that best answer the question",
    "NQ": _WIKI_QA,
    "QuoraRetrieval": "Given a question, retrieve questions that are semantically equivalent to the given question",
    "SCIDOCS": "Given a scientific paper title, retrieve paper abstracts that are cited by the given paper",
    "SciFact": "Given a scientific claim, retrieve documents that support or refute the claim",
    "Touche2020": "Given a question, retrieve detailed and persuasive arguments that answer the question",
    "TRECCOVID": "Given a query on COVID-19, retrieve documents that answer the query",
    # utils.py key 'miracl' ("for miracl evaluation").
    "MIRACLRetrieval": _WIKI_QA,
    # Not in the authors' table (utils.py raises ValueError for it). Mr.TyDi is, like MIRACL, question ->
    # Wikipedia passage retrieval over TyDi QA questions, so the MIRACL instruction is the faithful choice.
    "MrTidyRetrieval": _WIKI_QA,
}


def instruction_for(task_name: str, task_type: str) -> str:
    """The authors' instruction for `task_name`; raises ConfigError for a task the table lacks."""
    if task_type in TASK_TYPE_INSTRUCTIONS:
        return TASK_TYPE_INSTRUCTIONS[task_type]
    if task_name.lower().startswith(CQADUPSTACK_PREFIX):
        return CQADUPSTACK_INSTRUCTION
    if task_name in TASK_INSTRUCTIONS:
        return TASK_INSTRUCTIONS[task_name]
    raise ConfigError(
        f"no instruction for task {task_name!r} (type {task_type}) in the instruction-model table; add it to "
        f"TASK_INSTRUCTIONS in evaluation/models/instructions.py (the authors' table is unilm "
        f"e5/utils.py get_task_def_by_task_name_and_type), or run with protocol=mteb to use mteb's prompt"
    )
