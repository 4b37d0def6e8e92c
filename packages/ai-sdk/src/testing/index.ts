export { scriptedModel, type ScriptedTurn } from './scripted-model.js';
