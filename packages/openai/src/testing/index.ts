export {
  startScriptedOpenAIServer,
  toolOutputs,
  toolResults,
  type RecordedRequest,
  type ScriptedOpenAIServer,
  type ScriptedToolCall,
  type ScriptedTurn,
} from './scripted-openai-server.js';
