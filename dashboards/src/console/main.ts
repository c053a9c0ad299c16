import { createApp } from 'vue'
import { makeI18n } from '../shared/i18n'
import App from './App.vue'
import './style.css'

createApp(App).use(makeI18n()).mount('#app')
