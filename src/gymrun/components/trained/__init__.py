"""Agents that play a trained model from a file: a Stable-Baselines3 ``.zip`` (`sb3`) and an
ONNX policy (`onnx`).

Their libraries (stable-baselines3 and torch, onnxruntime) are optional extras, imported only
when a config names one of these agents. Every way a file can fail to fit the environment
(missing, corrupt, trained on other spaces, saved by an algorithm that is not installed) is an
`AgentError` raised while the agent is built, before the first step.
"""
