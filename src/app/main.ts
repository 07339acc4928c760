import { mount } from 'svelte';
import App from './App.svelte';
import { installAutomation } from './automation.ts';

installAutomation();
mount(App, { target: document.getElementById('app')! });
